# The import ID is the group name; the import reads all of its members.
terraform import cairn_group_membership.developers developers
