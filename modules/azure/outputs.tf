output "endpoint" {
  description = "S3 endpoint: the internal load balancer's frontend address."
  value       = "http://${azurerm_lb.s3.private_ip_address}:${var.port}"
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

output "key_vault_uri" {
  description = "Key Vault of the SSE key (CAIRN_KMS_AZURE_VAULT_URL)."
  value       = local.vault_uri
}

output "identity" {
  description = "The VMs' user-assigned managed identity: id, client_id, principal_id."
  value = {
    id           = azurerm_user_assigned_identity.node.id
    client_id    = azurerm_user_assigned_identity.node.client_id
    principal_id = azurerm_user_assigned_identity.node.principal_id
  }
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
  description = "Per node address, the cloud-config custom data."
  value       = module.render.cloud_init
  sensitive   = true
}
