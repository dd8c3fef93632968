# The import ID is GROUP/POLICY.
terraform import cairn_group_policy_attachment.auditors auditors/readonly
