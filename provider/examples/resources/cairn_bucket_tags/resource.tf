resource "cairn_bucket" "logs" {
  bucket = "logs"
}

resource "cairn_bucket_tags" "logs" {
  bucket = cairn_bucket.logs.bucket
  tags = {
    team        = "platform"
    cost-center = "1234"
  }
}
