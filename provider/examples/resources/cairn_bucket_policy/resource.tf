resource "cairn_bucket" "site" {
  bucket = "public-site"
}

# Anyone may read objects; nobody may delete them. Reformatting or reordering this
# document later plans no change: policies are compared by meaning.
resource "cairn_bucket_policy" "site" {
  bucket = cairn_bucket.site.bucket
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "PublicRead"
        Effect    = "Allow"
        Principal = "*"
        Action    = "s3:GetObject"
        Resource  = "${cairn_bucket.site.arn}/*"
      },
      {
        Sid       = "NoDeletes"
        Effect    = "Deny"
        Principal = "*"
        Action    = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
        Resource  = "${cairn_bucket.site.arn}/*"
      },
    ]
  })
}
