output "endpoint" {
  description = "S3 endpoint: the network load balancer."
  value       = "http://${aws_lb.s3.dns_name}:${var.port}"
}

output "node_endpoints" {
  description = "Every node's own endpoint (private address), node 1 first."
  value       = [for n in local.nodes : "http://${n.ip}:${var.port}"]
}

output "metrics_url" {
  description = "Prometheus metrics of node 1 (each node serves <node endpoint>/metrics; bearer token from `cairn admin metrics-token` unless metrics_public)."
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

output "kms_key_arn" {
  description = "The KMS key sealing SSE data keys (CAIRN_KMS_DEFAULT_KEY)."
  value       = local.kms_key_arn
}

output "instance_role_arn" {
  description = "IAM role of the instances."
  value       = aws_iam_role.node.arn
}

output "security_group_id" {
  description = "Security group of the nodes."
  value       = aws_security_group.node.id
}

output "nodes" {
  description = "Per node: name, private address, subnet and availability zone."
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
  description = "Per node address, the cloud-config user data (before gzip) the instance boots with."
  value       = module.render.cloud_init
  sensitive   = true
}
