# The import ID is the user name.
terraform import cairn_user.analyst analyst
