# The import ID is the bucket name.
terraform import cairn_bucket_lifecycle.logs logs
