data "cairn_cluster" "this" {}

output "usable_free_tib" {
  value = data.cairn_cluster.this.usable_free_bytes / pow(1024, 4)
}

# Warn on every plan while drives are offline or objects wait for healing.
check "cluster_healthy" {
  assert {
    condition     = data.cairn_cluster.this.drives_offline == 0
    error_message = "${data.cairn_cluster.this.drives_offline} drive(s) offline."
  }
  assert {
    condition     = data.cairn_cluster.this.heal.backlog == 0
    error_message = "${data.cairn_cluster.this.heal.backlog} object(s) waiting for healing."
  }
}
