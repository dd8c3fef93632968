data "cairn_policy_document" "read_only" {
  statement {
    sid       = "ReadOnly"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [cairn_bucket.data.arn, "${cairn_bucket.data.arn}/*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::000000000000:user/analyst"]
    }
    condition {
      test     = "IpAddress"
      variable = "aws:SourceIp"
      values   = ["10.0.0.0/8"]
    }
  }
}

resource "cairn_bucket" "data" {
  bucket = "datasets"
}

resource "cairn_bucket_policy" "data" {
  bucket = cairn_bucket.data.bucket
  policy = data.cairn_policy_document.read_only.json
}
