# Four VMs × four managed disks over three zones (one 16-drive erasure set), an
# internal load balancer, and a Key Vault key for SSE-KMS reached through the
# VMs' managed identity.

terraform {
  required_version = ">= 1.10"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.0, < 5.0"
    }
  }
}

provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
}

variable "subscription_id" {
  type = string
}

variable "resource_group_name" {
  type = string
}

variable "location" {
  type    = string
  default = "westeurope"
}

variable "subnet_id" {
  type = string
}

variable "subnet_address_prefix" {
  type    = string
  default = "10.1.0.0/24"
}

variable "ssh_public_key" {
  type = string
}

variable "root_password" {
  type      = string
  sensitive = true
}

variable "binary_url" {
  type = string
}

variable "binary_sha256" {
  type = string
}

module "cairn" {
  source = "../../modules/azure"

  name                = "cairn-prod"
  resource_group_name = var.resource_group_name
  location            = var.location
  subnet              = { id = var.subnet_id, address_prefix = var.subnet_address_prefix }
  node_count          = 4
  drives_per_node     = 4
  disk_size_gb        = 512
  ssh_public_key      = var.ssh_public_key
  root_password       = var.root_password
  binary_url          = var.binary_url
  binary_sha256       = var.binary_sha256
  key_vault           = { name = "cairn-prod-sse-kv" }
}

output "endpoint" {
  value = module.cairn.endpoint
}

output "key_vault_uri" {
  value = module.cairn.key_vault_uri
}
