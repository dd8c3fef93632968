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
