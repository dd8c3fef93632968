output "endpoint" {
  description = "S3 endpoint: the internal load balancer's address."
  value       = "http://${google_compute_forwarding_rule.s3.ip_address}:${var.port}"
}

output "node_endpoints" {
  description = "Every node's own endpoint, node 1 first."
  value       = [for n in local.nodes : "http://${n.ip}:${var.port}"]
}

output "metrics_url" {
  description = "Prometheus metrics of node 1 (each node serves <node endpoint>/metrics)."
  value       = "http://${local.nodes[0].ip}:${var.port}/metrics"
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

output "crypto_key_id" {
  description = "The Cloud KMS key sealing SSE data keys."
  value       = local.crypto_key_id
}

output "service_account_email" {
  description = "Service account of the instances."
  value       = google_service_account.node.email
}

output "nodes" {
  description = "Per node: name, zone and address."
  value       = local.nodes
}

output "pool_args" {
  description = "The pool argument every node runs with."
  value       = module.render.pool_args
}

output "set_sizes" {
  description = "Erasure-set size of the pool."
  value       = module.render.set_sizes
}

output "cloud_init" {
  description = "Per node address, the cloud-config user data."
  value       = module.render.cloud_init
  sensitive   = true
}
