resource "cairn_group" "developers" {
  name = "developers"
}

# Members and policies are separate resources.
resource "cairn_group_membership" "developers" {
  group = cairn_group.developers.name
  users = ["alice", "bob"]
}

resource "cairn_group_policy_attachment" "developers" {
  group  = cairn_group.developers.name
  policy = "readwrite"
}
