# The import ID is the group name.
terraform import cairn_group.developers developers
