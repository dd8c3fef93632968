# A 3-node × 2-drive Cairn cluster on this machine (modules/local), configured in
# the same apply with the cairn provider: two versioned buckets, an application
# user with its own policy and an access key.
#
#   make build
#   export TF_VAR_root_password="$(openssl rand -hex 16)"
#   terraform init && terraform apply
#   terraform output -raw app_secret_key   # the application's secret (kept in state)
#   terraform destroy                      # stops the nodes, deletes the data
#
# The provider is configured from the module's outputs: their values are known at
# plan time, and the outputs depend on the cluster resource, so the provider is only
# used once every node answers /cairn/health/ready.

terraform {
  required_version = ">= 1.11"
  required_providers {
    cairn = {
      source = "cairn/cairn"
    }
  }
}

variable "cairn_binary" {
  description = "The cairn binary that runs the nodes."
  type        = string
  default     = "../../bin/cairn"
}

variable "base_port" {
  description = "Port of node 1; nodes 2 and 3 take the next two."
  type        = number
  default     = 9200
}

variable "work_dir" {
  description = "Data, logs and PID files of the cluster."
  type        = string
  default     = ".cairn-local"
}

variable "root_password" {
  description = "Root secret key of the cluster (at least 8 characters)."
  type        = string
  sensitive   = true
}

variable "extra_pools" {
  description = <<-EOT
    Pools added to the running cluster, each a number of drives per node (new
    directories on the same three nodes, under work_dir/data/nodeN/poolM). Adding
    an entry adds a pool live (cairn_pool); removing the last one drains it back
    into the others. The cluster is never rebuilt.
  EOT
  type        = list(number)
  default     = []
  validation {
    condition     = alltrue([for n in var.extra_pools : n >= 1 && n <= 5 && floor(n) == n])
    error_message = "Each extra pool has 1 to 5 drives per node (3 to 15 drives: one erasure set)."
  }
}

variable "bucket_prefix" {
  description = "Prefix of the bucket names."
  type        = string
  default     = "local"
}

module "cluster" {
  source = "../../modules/local"

  cairn_binary    = var.cairn_binary
  node_count      = 3
  drives_per_node = 2
  base_port       = var.base_port
  work_dir        = var.work_dir
  root_user       = "admin"
  root_password   = var.root_password
}

provider "cairn" {
  endpoint   = module.cluster.endpoint
  access_key = module.cluster.access_key
  secret_key = module.cluster.secret_key
}

# Pools beyond the first, added to the live cluster. A pool is one argument of
# comma-separated endpoint patterns, one per node.
resource "cairn_pool" "extra" {
  count = length(var.extra_pools)
  drives = [join(",", [for i, url in module.cluster.node_endpoints :
    "${url}${module.cluster.work_dir}/data/node${i + 1}/pool${count.index + 1}/${var.extra_pools[count.index] == 1 ? "d1" : "d{1...${var.extra_pools[count.index]}}"}"
  ])]
  timeouts = {
    delete = "10m"
  }
}

resource "cairn_bucket" "data" {
  bucket        = "${var.bucket_prefix}-data"
  force_destroy = true
}

resource "cairn_bucket_versioning" "data" {
  bucket = cairn_bucket.data.bucket
  status = "Enabled"
}

resource "cairn_bucket" "backups" {
  bucket        = "${var.bucket_prefix}-backups"
  force_destroy = true
}

resource "cairn_bucket_versioning" "backups" {
  bucket = cairn_bucket.backups.bucket
  status = "Enabled"
}

data "cairn_policy_document" "app" {
  statement {
    sid       = "Buckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketVersions"]
    resources = [cairn_bucket.data.arn, cairn_bucket.backups.arn]
  }
  statement {
    sid       = "Objects"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${cairn_bucket.data.arn}/*", "${cairn_bucket.backups.arn}/*"]
  }
}

resource "cairn_policy" "app" {
  name   = "${var.bucket_prefix}-app-readwrite"
  policy = data.cairn_policy_document.app.json
}

resource "cairn_user" "app" {
  name = "${var.bucket_prefix}-app"
}

resource "cairn_user_policy_attachment" "app" {
  user   = cairn_user.app.name
  policy = cairn_policy.app.name
}

# The server generates the secret; Terraform keeps it (sensitive) in the state.
resource "cairn_access_key" "app" {
  user                  = cairn_user.app.name
  name                  = "app"
  description           = "examples/local application"
  store_secret_in_state = true
}

output "endpoint" {
  value = module.cluster.endpoint
}

output "node_endpoints" {
  value = module.cluster.node_endpoints
}

output "metrics_url" {
  value = module.cluster.metrics_url
}

output "buckets" {
  value = [cairn_bucket.data.bucket, cairn_bucket.backups.bucket]
}

output "app_access_key" {
  value = cairn_access_key.app.access_key
}

output "app_secret_key" {
  value     = cairn_access_key.app.secret
  sensitive = true
}

output "pools" {
  value = [for p in cairn_pool.extra : { index = p.index, drives = p.drive_count, sets = p.sets }]
}

output "work_dir" {
  value = module.cluster.work_dir
}
