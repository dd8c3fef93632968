# The import ID is the bucket name.
terraform import cairn_bucket.photos photos
