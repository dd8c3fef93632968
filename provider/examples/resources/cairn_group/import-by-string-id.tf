import {
  to = cairn_group.developers
  id = "developers"
}
