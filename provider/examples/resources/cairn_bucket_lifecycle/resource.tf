resource "cairn_bucket" "logs" {
  bucket = "logs"
}

resource "cairn_bucket_versioning" "logs" {
  bucket = cairn_bucket.logs.bucket
  status = "Enabled"
}

resource "cairn_bucket_lifecycle" "logs" {
  bucket = cairn_bucket.logs.bucket
  rule = [
    {
      id         = "expire-app-logs"
      filter     = { prefix = "app/" }
      expiration = { days = 90 }
      noncurrent_version_expiration = {
        noncurrent_days           = 30
        newer_noncurrent_versions = 2
      }
      abort_incomplete_multipart_upload = { days_after_initiation = 7 }
    },
    {
      id     = "archive-large"
      filter = { object_size_greater_than = 104857600 } # 100 MiB
      # COLD is a remote tier configured on the server.
      transition = [{
        days          = 30
        storage_class = "COLD"
      }]
    },
    {
      id         = "clean-delete-markers"
      expiration = { expired_object_delete_marker = true }
    },
  ]
}
