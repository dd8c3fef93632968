# Six instances × two persistent disks over three zones (one 12-drive erasure
# set), an internal TCP load balancer, and a Cloud KMS key for SSE-KMS that only
# the instances' service account may use.

terraform {
  required_version = ">= 1.10"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}

variable "project" {
  type = string
}

variable "region" {
  type    = string
  default = "europe-west1"
}

variable "subnetwork" {
  description = "Self link of the subnetwork in region."
  type        = string
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
  source = "../../modules/gcp"

  name            = "cairn-prod"
  project         = var.project
  region          = var.region
  zones           = ["${var.region}-b", "${var.region}-c", "${var.region}-d"]
  network         = "default"
  subnetwork      = var.subnetwork
  node_count      = 6
  drives_per_node = 2
  disk_size_gb    = 500
  root_password   = var.root_password
  binary_url      = var.binary_url
  binary_sha256   = var.binary_sha256
}

output "endpoint" {
  value = module.cairn.endpoint
}

output "crypto_key_id" {
  value = module.cairn.crypto_key_id
}
