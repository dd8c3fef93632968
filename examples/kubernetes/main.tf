# Four pods × four PersistentVolumeClaims (one 16-drive erasure set) in the
# namespace cairn, a ServiceMonitor for prometheus-operator, and the built-in
# KMS with its master key in the cluster's Secret.
#
#   kubectl -n cairn create secret generic cairn-metrics --from-literal=token=…   # cairn admin metrics-token
#   terraform init && terraform apply

terraform {
  required_version = ">= 1.10"
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.20, < 4.0"
    }
  }
}

provider "kubernetes" {
  config_path = "~/.kube/config"
}

variable "image" {
  description = "The cairn image built from the repository's Dockerfile."
  type        = string
}

variable "root_password" {
  type      = string
  sensitive = true
}

variable "kms_master_key" {
  description = "base64 of 32 random bytes."
  type        = string
  sensitive   = true
}

module "cairn" {
  source = "../../modules/kubernetes"

  namespace            = "cairn"
  replicas             = 4
  drives_per_node      = 4
  storage_size         = "200Gi"
  storage_class        = "premium-rwo"
  image                = var.image
  root_password        = var.root_password
  kms                  = { backend = "builtin", master_key = var.kms_master_key, key = "objects" }
  service_monitor      = true
  metrics_token_secret = { name = "cairn-metrics", key = "token" }
}

output "endpoint" {
  value = module.cairn.endpoint
}

output "node_endpoints" {
  value = module.cairn.node_endpoints
}
