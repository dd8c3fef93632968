data "cairn_bucket" "shared" {
  bucket = "shared-datasets"
}

output "shared_arn" {
  value = data.cairn_bucket.shared.arn
}
