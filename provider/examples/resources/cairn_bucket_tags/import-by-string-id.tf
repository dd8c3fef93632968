import {
  to = cairn_bucket_tags.logs
  id = "logs"
}
