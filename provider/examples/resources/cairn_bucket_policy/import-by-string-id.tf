import {
  to = cairn_bucket_policy.site
  id = "public-site"
}
