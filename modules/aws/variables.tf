variable "name" {
  description = "Name prefix of every resource (and of the KMS alias alias/<name>-sse)."
  type        = string
  default     = "cairn"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}$", var.name))
    error_message = "name must start with a letter and hold at most 21 lowercase letters, digits and hyphens (it prefixes load balancer and target group names, at most 32 characters)."
  }
}

variable "node_count" {
  description = "EC2 instances, one Cairn node each, spread round-robin over subnet_ids (and so over their availability zones)."
  type        = number
  default     = 4

  validation {
    condition     = var.node_count >= 1 && var.node_count <= 64 && floor(var.node_count) == var.node_count
    error_message = "node_count must be a whole number from 1 to 64."
  }
}

variable "drives_per_node" {
  description = "EBS volumes per instance, each one drive of Cairn. node_count × drives_per_node must divide into equal erasure sets of 2–16 drives."
  type        = number
  default     = 4

  validation {
    condition     = var.drives_per_node >= 1 && var.drives_per_node <= 20 && floor(var.drives_per_node) == var.drives_per_node
    error_message = "drives_per_node must be a whole number from 1 to 20 (EBS attachments per instance, /dev/sdf … /dev/sdy)."
  }
  validation {
    condition = (
      var.node_count * var.drives_per_node == 1 ||
      anytrue([for s in range(2, 17) : (var.node_count * var.drives_per_node) % s == 0])
    )
    error_message = "node_count × drives_per_node is not a valid erasure layout: the drive count must divide into equal sets of 2–16 drives (e.g. 4 × 4 = 16, 3 × 2 = 6, 6 × 3 = 18; not 17, 19 or 23), or be a single drive."
  }
}

variable "drive_size_gb" {
  description = "Size of each EBS data volume, GiB."
  type        = number
  default     = 100

  validation {
    condition     = var.drive_size_gb >= 1 && var.drive_size_gb <= 65536
    error_message = "drive_size_gb must be from 1 to 65536."
  }
}

variable "drive_type" {
  description = "EBS volume type of the data volumes."
  type        = string
  default     = "gp3"

  validation {
    condition     = contains(["gp3", "gp2", "io1", "io2", "st1", "sc1"], var.drive_type)
    error_message = "drive_type must be one of gp3, gp2, io1, io2, st1, sc1."
  }
}

variable "instance_type" {
  description = "EC2 instance type (Nitro: EBS volumes appear as NVMe devices, found by volume id)."
  type        = string
  default     = "m6i.xlarge"
}

variable "ami_id" {
  description = "AMI of the instances: a Linux with cloud-init and systemd (Ubuntu 24.04, Debian 12, Amazon Linux 2023), of the binary's architecture."
  type        = string

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be an AMI id (ami-…)."
  }
}

variable "vpc_id" {
  description = "VPC of the instances, load balancer and security group."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets, ideally one per availability zone: node i goes to subnet_ids[i % length(subnet_ids)] at the fixed address cidrhost(<subnet CIDR>, ip_offset + floor(i / length(subnet_ids))). The load balancer spans them all."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1 && length(distinct(var.subnet_ids)) == length(var.subnet_ids)
    error_message = "subnet_ids must list at least one subnet, each once."
  }
}

variable "ip_offset" {
  description = "Host number of the first node's private address in its subnet (AWS reserves .0–.3 and the last address). Node addresses are fixed so that every node's command line names every other node."
  type        = number
  default     = 10

  validation {
    condition     = var.ip_offset >= 4
    error_message = "ip_offset must be at least 4: AWS reserves the first four addresses of a subnet."
  }
}

variable "allowed_cidrs" {
  description = "Client networks allowed to reach the S3 port (through the load balancer or directly). Nodes always reach each other."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "allowed_cidrs must hold CIDR blocks (e.g. 10.0.0.0/16)."
  }
}

variable "port" {
  description = "S3 port of every node and of the load balancer."
  type        = number
  default     = 9000
}

variable "internal_lb" {
  description = "Internal network load balancer (true) or internet-facing (false; then subnet_ids must be public subnets)."
  type        = bool
  default     = true
}

variable "root_user" {
  description = "Root access key (CAIRN_ROOT_USER)."
  type        = string
  default     = "admin"
  sensitive   = true
}

variable "root_password" {
  description = "Root secret key (CAIRN_ROOT_PASSWORD), at least 8 characters. It reaches the instances in their user data (readable through the instance metadata service by processes on the instance)."
  type        = string
  sensitive   = true
}

variable "kms" {
  description = "SSE-KMS with AWS KMS: create = true makes a customer-managed key (rotation on) for this cluster; otherwise key_arn names an existing key. The instance role may use only that key (GenerateDataKey, Decrypt, ReEncrypt*, DescribeKey); no static credentials reach the nodes."
  type = object({
    create  = optional(bool, true)
    key_arn = optional(string, "")
  })
  default = {}

  validation {
    condition     = var.kms.create || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms.key_arn))
    error_message = "kms.key_arn (arn:aws:kms:REGION:ACCOUNT:key/ID) is required when kms.create is false."
  }
  validation {
    condition     = !(var.kms.create && var.kms.key_arn != "")
    error_message = "set either kms.create = true or kms.key_arn, not both."
  }
}

variable "binary_url" {
  description = "HTTPS URL of the cairn binary (linux, the AMI's architecture) that cloud-init downloads on every instance."
  type        = string

  validation {
    condition     = startswith(var.binary_url, "https://")
    error_message = "binary_url must be an https:// URL."
  }
}

variable "binary_sha256" {
  description = "SHA-256 (hex) of the binary at binary_url; the install fails on a mismatch."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.binary_sha256))
    error_message = "binary_sha256 must be 64 lowercase hex digits."
  }
}

variable "extra_args" {
  description = "Extra `cairn server` flags."
  type        = list(string)
  default     = []
}

variable "metrics_public" {
  description = "Serve /metrics without a bearer token (reachable only from allowed_cidrs and the nodes)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
