# A user has no secret of its own: give it access keys (cairn_access_key) and
# permissions (cairn_user_policy_attachment, or a group's policies).
resource "cairn_user" "analyst" {
  name = "analyst"
}

# Disabled: its access keys stop working until it is enabled again.
resource "cairn_user" "contractor" {
  name   = "contractor"
  status = "disabled"
}
