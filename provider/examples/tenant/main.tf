# One tenant on a Cairn server: its buckets (versioned, tagged, one of them public
# read-only), a group whose policy gives read-write access to the tenant's buckets,
# an application user in that group, and the user's access key. The private bucket
# is encrypted by default with the tenant's own KMS key, and a lifecycle rule
# trims old versions and abandoned uploads. The server needs a KMS (for the
# built-in one, CAIRN_KMS_MASTER_KEY).
#
#   export CAIRN_ENDPOINT=https://s3.example.com:9000
#   export CAIRN_ACCESS_KEY=... CAIRN_SECRET_KEY=...   # root, or a user allowed admin:*
#   export TF_VAR_app_secret_key="$(openssl rand -base64 30)"
#   terraform init && terraform apply
#
# The application signs with access key `app_access_key` (an output) and the secret
# you chose: Terraform sends it to the server once and stores it nowhere.

terraform {
  required_version = ">= 1.11" # write-only attributes and ephemeral variables
  required_providers {
    cairn = {
      source = "cairn/cairn"
    }
  }
}

# Endpoint and credentials from CAIRN_ENDPOINT, CAIRN_ACCESS_KEY, CAIRN_SECRET_KEY.
provider "cairn" {}

variable "tenant" {
  description = "Tenant name: prefixes its buckets, names its group and its user."
  type        = string
  default     = "acme"
}

variable "allow_key_deletion" {
  description = "Let destroy delete the tenant's KMS key. Objects it sealed become unreadable, so only for tenants whose data is gone."
  type        = bool
  default     = false
}

variable "app_secret_key" {
  description = "Secret key of the application's access key (8–128 printable characters, no spaces)."
  type        = string
  sensitive   = true
  ephemeral   = true
}

locals {
  tags = {
    tenant     = var.tenant
    managed-by = "terraform"
  }
}

# Private data, versioned: every overwrite and delete keeps the previous version.
resource "cairn_bucket" "data" {
  bucket        = "${var.tenant}-data"
  force_destroy = true # destroying the tenant deletes every version too
}

resource "cairn_bucket_versioning" "data" {
  bucket = cairn_bucket.data.bucket
  status = "Enabled"
}

resource "cairn_bucket_tags" "data" {
  bucket = cairn_bucket.data.bucket
  tags   = merge(local.tags, { class = "private" })
}

# The tenant's own KMS key seals every object written to the private bucket.
resource "cairn_kms_key" "tenant" {
  name             = "${var.tenant}-key"
  deletion_allowed = var.allow_key_deletion
}

resource "cairn_bucket_encryption" "data" {
  bucket = cairn_bucket.data.bucket
  rule = {
    sse_algorithm     = "aws:kms"
    kms_master_key_id = cairn_kms_key.tenant.name
  }
}

# Old versions go after 30 days (the newest 3 are kept), abandoned multipart
# uploads after 7.
resource "cairn_bucket_lifecycle" "data" {
  bucket = cairn_bucket.data.bucket
  rule = [{
    id = "trim-versions"
    noncurrent_version_expiration = {
      noncurrent_days           = 30
      newer_noncurrent_versions = 3
    }
    abort_incomplete_multipart_upload = { days_after_initiation = 7 }
  }]
  depends_on = [cairn_bucket_versioning.data]
}

# Public assets: anyone may read, nobody anonymous may write.
resource "cairn_bucket" "public" {
  bucket        = "${var.tenant}-public"
  force_destroy = true
}

resource "cairn_bucket_versioning" "public" {
  bucket = cairn_bucket.public.bucket
  status = "Enabled"
}

resource "cairn_bucket_tags" "public" {
  bucket = cairn_bucket.public.bucket
  tags   = merge(local.tags, { class = "public" })
}

resource "cairn_bucket_policy" "public" {
  bucket = cairn_bucket.public.bucket
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PublicRead"
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${cairn_bucket.public.arn}/*"
    }]
  })
}

# The tenant's permissions, given to a group rather than to each user.
data "cairn_policy_document" "tenant" {
  statement {
    sid       = "TenantBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketVersions"]
    resources = [cairn_bucket.data.arn, cairn_bucket.public.arn]
  }
  statement {
    sid       = "TenantObjects"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${cairn_bucket.data.arn}/*", "${cairn_bucket.public.arn}/*"]
  }
}

resource "cairn_policy" "tenant" {
  name   = "${var.tenant}-readwrite"
  policy = data.cairn_policy_document.tenant.json
}

resource "cairn_group" "tenant" {
  name = var.tenant
}

resource "cairn_group_policy_attachment" "tenant" {
  group  = cairn_group.tenant.name
  policy = cairn_policy.tenant.name
}

resource "cairn_user" "app" {
  name = "${var.tenant}-app"
}

resource "cairn_group_membership" "tenant" {
  group = cairn_group.tenant.name
  users = [cairn_user.app.name]
}

# The secret comes in write-only: never in the plan or the state. To rotate it,
# change TF_VAR_app_secret_key and bump secret_wo_version: a new key replaces this one.
resource "cairn_access_key" "app" {
  user              = cairn_user.app.name
  name              = "app"
  description       = "${var.tenant} application"
  secret_wo         = var.app_secret_key
  secret_wo_version = 1
}

output "app_access_key" {
  description = "Access key id of the application (its secret is TF_VAR_app_secret_key)."
  value       = cairn_access_key.app.access_key
}

output "buckets" {
  value = [cairn_bucket.data.bucket, cairn_bucket.public.bucket]
}
