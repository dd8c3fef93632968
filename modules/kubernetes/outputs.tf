output "endpoint" {
  description = "S3 endpoint inside the cluster: the client Service."
  value       = "http://${var.name}.${var.namespace}.svc.${var.cluster_domain}:${var.port}"
}

output "node_endpoints" {
  description = "Every pod's own endpoint (headless Service names)."
  value       = [for h in local.hosts : "http://${h}:${var.port}"]
}

output "metrics_url" {
  description = "Prometheus metrics of pod 0 (every pod serves <pod endpoint>/metrics; bearer token unless metrics_public)."
  value       = "http://${local.hosts[0]}:${var.port}/metrics"
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
  description = "The pool argument every pod runs with."
  value       = module.render.pool_args
}

output "set_sizes" {
  description = "Erasure-set size of the pool."
  value       = module.render.set_sizes
}

output "manifests" {
  description = "Every object the module applies, in the Kubernetes API's form, keyed kind/name (sensitive: the Secret holds the credentials)."
  value       = local.objects
  sensitive   = true
}
