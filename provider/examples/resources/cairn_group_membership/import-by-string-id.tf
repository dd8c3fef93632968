import {
  to = cairn_group_membership.developers
  id = "developers"
}
