resource "cairn_kms_key" "billing" {
  name = "billing"
}

resource "cairn_bucket" "invoices" {
  bucket = "invoices"
}

# Every object written without encryption headers is sealed by the billing key.
resource "cairn_bucket_encryption" "invoices" {
  bucket = cairn_bucket.invoices.bucket
  rule = {
    sse_algorithm      = "aws:kms"
    kms_master_key_id  = cairn_kms_key.billing.name
    bucket_key_enabled = true
  }
}
