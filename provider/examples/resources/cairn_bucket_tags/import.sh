# The import ID is the bucket name.
terraform import cairn_bucket_tags.logs logs
