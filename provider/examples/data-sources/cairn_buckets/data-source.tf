# Every bucket of team A.
data "cairn_buckets" "team_a" {
  prefix = "team-a-"
}

output "team_a_buckets" {
  value = data.cairn_buckets.team_a.names
}
