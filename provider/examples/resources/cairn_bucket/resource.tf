resource "cairn_bucket" "photos" {
  bucket = "photos"
}

# A generated, unique name; force_destroy lets `terraform destroy` remove a bucket
# that still holds objects (every version and delete marker is deleted).
resource "cairn_bucket" "scratch" {
  bucket_prefix = "scratch-"
  force_destroy = true
}

# Object Lock (WORM) can only be chosen at creation; it turns versioning on.
resource "cairn_bucket" "audit" {
  bucket              = "audit-logs"
  object_lock_enabled = true
}
