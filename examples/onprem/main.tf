# Four Linux hosts × four drives (one 16-drive erasure set, 12 data + 4 parity)
# installed over SSH by modules/onprem, run by systemd.
#
#   GOOS=linux make static          # at the repository's root: bin/cairn-static
#   export TF_VAR_root_password="$(openssl rand -hex 16)"
#   terraform init && terraform apply

terraform {
  required_version = ">= 1.10"
}

variable "hosts" {
  description = "The hosts (addresses the nodes and this machine reach them by)."
  type        = list(string)
  default     = ["10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.14"]
}

variable "ssh_private_key_file" {
  description = "Private key of the deploy user."
  type        = string
  default     = "~/.ssh/id_ed25519"
}

variable "binary_source" {
  description = "The Linux cairn binary (GOOS=linux make static; bin/cairn-static)."
  type        = string
  default     = "../../bin/cairn-static"
}

variable "root_password" {
  description = "Root secret key of the cluster (at least 8 characters)."
  type        = string
  sensitive   = true
}

variable "kms_master_key" {
  description = "Built-in KMS master key: base64 of 32 random bytes (head -c32 /dev/urandom | base64)."
  type        = string
  sensitive   = true
}

module "cairn" {
  source = "../../modules/onprem"

  hosts           = var.hosts
  drives_per_node = 4 # mount a disk on each of /var/lib/cairn/d1 … d4 first
  ssh = {
    user             = "deploy" # passwordless sudo
    private_key_file = pathexpand(var.ssh_private_key_file)
  }
  binary_source = var.binary_source
  root_password = var.root_password
  kms           = { backend = "builtin", master_key = var.kms_master_key, key = "objects" }
}

output "endpoint" {
  value = module.cairn.endpoint
}

output "node_endpoints" {
  value = module.cairn.node_endpoints
}

output "metrics_url" {
  value = module.cairn.metrics_url
}
