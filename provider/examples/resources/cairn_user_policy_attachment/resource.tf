resource "cairn_user" "analyst" {
  name = "analyst"
}

resource "cairn_policy" "reports_read" {
  name = "reports-read"
  policy = jsonencode({
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:ListBucket", "s3:GetObject"]
      Resource = ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]
    }]
  })
}

resource "cairn_user_policy_attachment" "analyst_reports" {
  user   = cairn_user.analyst.name
  policy = cairn_policy.reports_read.name
}

# Built-in policies are attached by name: readwrite, readonly, writeonly, admin.
resource "cairn_user_policy_attachment" "analyst_readonly" {
  user   = cairn_user.analyst.name
  policy = "readonly"
}
