resource "cairn_bucket" "site" {
  bucket = "public-site"
}

resource "cairn_object" "index" {
  bucket       = cairn_bucket.site.bucket
  key          = "index.html"
  source       = "${path.module}/site/index.html" # hashed at plan time: editing the file plans an update
  content_type = "text/html"
}

resource "cairn_object" "robots" {
  bucket       = cairn_bucket.site.bucket
  key          = "robots.txt"
  content      = "User-agent: *\nDisallow:\n"
  content_type = "text/plain"
  metadata = {
    owner = "web-team"
  }
}

resource "cairn_object" "logo" {
  bucket         = cairn_bucket.site.bucket
  key            = "img/logo.png"
  content_base64 = filebase64("${path.module}/site/logo.png")
  content_type   = "image/png"
}

# Encrypted with SSE-KMS under a named key, whatever the bucket's default; a
# copy rewritten outside Terraform with other encryption is written again.
resource "cairn_object" "config" {
  bucket                 = cairn_bucket.site.bucket
  key                    = "private/config.json"
  content                = jsonencode({ feature_flags = ["beta"] })
  server_side_encryption = "aws:kms"
  kms_key_id             = "web-config"
}
