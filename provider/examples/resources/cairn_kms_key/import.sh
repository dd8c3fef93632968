# The import ID is the key name.
terraform import cairn_kms_key.billing billing
