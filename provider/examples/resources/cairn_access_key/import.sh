# The import ID is the access key id. The secret of an imported key stays unknown
# to Terraform (secret is null).
terraform import cairn_access_key.ci CK7QZ4N2XW5RT3YB6PLM
