# The import ID is BUCKET/KEY. Objects up to 1 MiB are imported with their body.
terraform import cairn_object.robots public-site/robots.txt
