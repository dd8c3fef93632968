# The import ID is the policy name (built-in policies cannot be imported).
terraform import cairn_policy.reports_read reports-read
