# The import ID is USER/POLICY.
terraform import cairn_user_policy_attachment.analyst_reports analyst/reports-read
