import {
  to = cairn_bucket_lifecycle.logs
  id = "logs"
}
