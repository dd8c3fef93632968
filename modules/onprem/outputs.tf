output "endpoint" {
  description = "S3 and admin endpoint of the first host (any node answers any request; put a load balancer or DNS round robin in front for clients)."
  value       = terraform_data.rollout.id == "" ? "" : local.nodes[var.hosts[0]].url
}

output "node_endpoints" {
  description = "Endpoint of every node, in pool order."
  value       = [for h in module.render.hosts : local.nodes[h].url]
}

output "metrics_url" {
  description = "Prometheus metrics of the first host (each node serves its own at <node endpoint>/metrics; a bearer token from `cairn admin metrics-token` unless metrics_public)."
  value       = "${local.nodes[var.hosts[0]].url}/metrics"
}

output "access_key" {
  description = "Root access key."
  value       = var.root_user
  sensitive   = true
}

output "secret_key" {
  description = "Root secret key."
  value       = var.root_password
  sensitive   = true
}

output "pool_args" {
  description = "The pool arguments every node runs with."
  value       = module.render.pool_args
}

output "server_commands" {
  description = "Per host, the full `cairn server` command line (POSIX shell quoting)."
  value       = { for h, n in local.nodes : h => n.command }
}

output "units" {
  description = "Per host, the rendered systemd unit."
  value       = module.render.units
}

output "windows_scripts" {
  description = "Per host, a PowerShell script running the node on Windows as a boot-time scheduled task (render-only; a single host with data_dir = C:/cairn: cluster endpoints need /absolute/paths)."
  value       = module.render.windows_service
  sensitive   = true
}
