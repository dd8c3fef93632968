resource "cairn_bucket" "reports" {
  bucket = "reports"
}

# Read the reports bucket; reformatting or reordering this document later plans
# no change, while an edit made outside Terraform is planned back.
resource "cairn_policy" "reports_read" {
  name = "reports-read"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "List"
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = cairn_bucket.reports.arn
      },
      {
        Sid      = "Read"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion"]
        Resource = "${cairn_bucket.reports.arn}/*"
      },
    ]
  })
}

# The same with cairn_policy_document.
data "cairn_policy_document" "reports_write" {
  statement {
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${cairn_bucket.reports.arn}/*"]
  }
}

resource "cairn_policy" "reports_write" {
  name   = "reports-write"
  policy = data.cairn_policy_document.reports_write.json
}
