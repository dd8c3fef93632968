resource "cairn_user" "dev" {
  for_each = toset(["alice", "bob"])
  name     = each.key
}

resource "cairn_group" "developers" {
  name = "developers"
}

# Exactly these users are members: anyone else added to the group outside
# Terraform is removed by the next apply.
resource "cairn_group_membership" "developers" {
  group = cairn_group.developers.name
  users = [for u in cairn_user.dev : u.name]
}
