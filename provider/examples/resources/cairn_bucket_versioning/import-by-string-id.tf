import {
  to = cairn_bucket_versioning.backups
  id = "backups"
}
