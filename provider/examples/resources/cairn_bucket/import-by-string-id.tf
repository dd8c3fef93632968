import {
  to = cairn_bucket.photos
  id = "photos"
}
