resource "cairn_group" "auditors" {
  name = "auditors"
}

# Every member of auditors may read everything.
resource "cairn_group_policy_attachment" "auditors" {
  group  = cairn_group.auditors.name
  policy = "readonly"
}
