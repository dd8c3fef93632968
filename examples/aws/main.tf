# Six EC2 instances × two EBS volumes over three availability zones (one
# 12-drive erasure set, 8 data + 4 parity), an internal NLB, and an AWS KMS key
# for SSE-KMS that only the instances' role may use.
#
#   export TF_VAR_root_password="$(openssl rand -hex 16)"
#   terraform init && terraform apply

terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "vpc_id" {
  type = string
}

variable "private_subnet_ids" {
  description = "One private subnet per availability zone."
  type        = list(string)
}

variable "ami_id" {
  description = "Ubuntu 24.04 (amd64) AMI of the region."
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
  source = "../../modules/aws"

  name            = "cairn-prod"
  node_count      = 6
  drives_per_node = 2
  drive_size_gb   = 500
  instance_type   = "m6i.2xlarge"
  ami_id          = var.ami_id
  vpc_id          = var.vpc_id
  subnet_ids      = var.private_subnet_ids
  allowed_cidrs   = ["10.0.0.0/8"]
  root_password   = var.root_password
  binary_url      = var.binary_url
  binary_sha256   = var.binary_sha256
  tags            = { team = "storage" }
}

output "endpoint" {
  value = module.cairn.endpoint
}

output "metrics_url" {
  value = module.cairn.metrics_url
}

output "kms_key_arn" {
  value = module.cairn.kms_key_arn
}
