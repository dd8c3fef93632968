import {
  to = cairn_group_policy_attachment.auditors
  id = "auditors/readonly"
}
