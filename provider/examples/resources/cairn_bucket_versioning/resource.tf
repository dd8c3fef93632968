resource "cairn_bucket" "backups" {
  bucket = "backups"
}

resource "cairn_bucket_versioning" "backups" {
  bucket = cairn_bucket.backups.bucket
  status = "Enabled"
}
