# The import ID is the bucket name.
terraform import cairn_bucket_encryption.invoices invoices
