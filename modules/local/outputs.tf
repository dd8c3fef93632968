# Outputs refer to terraform_data.cluster.input (known at plan time, unlike .output) so that whatever uses them (a
# provider configuration, say) waits until every node is ready. The values are
# known at plan time.

output "endpoint" {
  description = "S3 (and admin API) endpoint: node 1. Any node answers any request."
  value       = terraform_data.cluster.input.endpoint
}

output "node_endpoints" {
  description = "Endpoint of every node, node 1 first."
  value       = split(" ", terraform_data.cluster.input.urls)
}

output "metrics_url" {
  description = "Prometheus metrics of node 1 (each node serves its own at <node endpoint>/metrics); public when metrics_public, else needs a bearer token from `cairn admin metrics-token`."
  value       = "${terraform_data.cluster.input.endpoint}/metrics"
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

output "pool" {
  description = "The pool argument every node was started with."
  value       = local.pool
}

output "work_dir" {
  description = "Absolute work directory: data/, logs/ and run/ (PID files)."
  value       = local.work_dir
}
