variable "name" {
  description = "Name prefix of every resource (service account <name>-node: 6–30 characters in all)."
  type        = string
  default     = "cairn"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,24}$", var.name))
    error_message = "name must start with a lowercase letter and hold at most 25 lowercase letters, digits and hyphens."
  }
}

variable "project" {
  description = "GCP project id."
  type        = string
}

variable "region" {
  description = "Region of the subnetwork, the internal load balancer and (when created) the KMS key ring."
  type        = string
}

variable "zones" {
  description = "Zones of the region the instances (and their disks) are spread over round-robin."
  type        = list(string)

  validation {
    condition     = length(var.zones) >= 1 && length(distinct(var.zones)) == length(var.zones)
    error_message = "zones must list at least one zone, each once."
  }
}

variable "network" {
  description = "VPC network (self link or name) of the firewall rule and the load balancer."
  type        = string
}

variable "subnetwork" {
  description = "Subnetwork self link (in region): node i gets the static internal address cidrhost(<its range>, ip_offset + i)."
  type        = string
}

variable "ip_offset" {
  description = "Host number of node 1's address in the subnetwork (GCP reserves .0 and .1)."
  type        = number
  default     = 10

  validation {
    condition     = var.ip_offset >= 2
    error_message = "ip_offset must be at least 2: GCP reserves the first two addresses of a subnetwork."
  }
}

variable "node_count" {
  description = "Compute Engine instances, one Cairn node each."
  type        = number
  default     = 4

  validation {
    condition     = var.node_count >= 1 && var.node_count <= 64 && floor(var.node_count) == var.node_count
    error_message = "node_count must be a whole number from 1 to 64."
  }
}

variable "drives_per_node" {
  description = "Persistent disks per instance, each one drive. node_count × drives_per_node must divide into equal erasure sets of 2–16 drives."
  type        = number
  default     = 4

  validation {
    condition     = var.drives_per_node >= 1 && var.drives_per_node <= 32 && floor(var.drives_per_node) == var.drives_per_node
    error_message = "drives_per_node must be a whole number from 1 to 32."
  }
  validation {
    condition = (
      var.node_count * var.drives_per_node == 1 ||
      anytrue([for s in range(2, 17) : (var.node_count * var.drives_per_node) % s == 0])
    )
    error_message = "node_count × drives_per_node is not a valid erasure layout: the drive count must divide into equal sets of 2–16 drives (e.g. 4 × 4 = 16, 3 × 2 = 6; not 17, 19 or 23), or be a single drive."
  }
}

variable "disk_size_gb" {
  description = "Size of each persistent disk, GB."
  type        = number
  default     = 100
}

variable "disk_type" {
  description = "Persistent disk type of the data disks."
  type        = string
  default     = "pd-balanced"

  validation {
    condition     = contains(["pd-standard", "pd-balanced", "pd-ssd", "pd-extreme"], var.disk_type)
    error_message = "disk_type must be pd-standard, pd-balanced, pd-ssd or pd-extreme."
  }
}

variable "machine_type" {
  description = "Machine type of the instances."
  type        = string
  default     = "n2-standard-4"
}

variable "image" {
  description = "Boot image with cloud-init (reads the user-data metadata key) and systemd."
  type        = string
  default     = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
}

variable "kms" {
  description = "SSE-KMS with Cloud KMS. create = true makes a key ring <name>-sse in region and a key key_name (90-day rotation); otherwise crypto_key_id (projects/P/locations/L/keyRings/R/cryptoKeys/K) names an existing key. The instances' service account gets roles/cloudkms.cryptoKeyEncrypterDecrypter and roles/cloudkms.viewer on that key only; no key file reaches the instances."
  type = object({
    create        = optional(bool, true)
    key_name      = optional(string, "cairn-sse")
    crypto_key_id = optional(string, "")
  })
  default = {}

  validation {
    condition     = var.kms.create || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms.crypto_key_id))
    error_message = "kms.crypto_key_id (projects/P/locations/L/keyRings/R/cryptoKeys/K) is required when kms.create is false."
  }
  validation {
    condition     = !(var.kms.create && var.kms.crypto_key_id != "")
    error_message = "set either kms.create = true or kms.crypto_key_id, not both."
  }
}

variable "allowed_cidrs" {
  description = "Client networks allowed to reach the S3 port (the subnetwork and Google's health checkers always can)."
  type        = list(string)
  default     = []
}

variable "port" {
  description = "S3 port of every node and of the load balancer."
  type        = number
  default     = 9000
}

variable "root_user" {
  description = "Root access key (CAIRN_ROOT_USER)."
  type        = string
  default     = "admin"
  sensitive   = true
}

variable "root_password" {
  description = "Root secret key (CAIRN_ROOT_PASSWORD), at least 8 characters (delivered in instance metadata)."
  type        = string
  sensitive   = true
}

variable "binary_url" {
  description = "HTTPS URL of the cairn binary (linux) that cloud-init downloads."
  type        = string

  validation {
    condition     = startswith(var.binary_url, "https://")
    error_message = "binary_url must be an https:// URL."
  }
}

variable "binary_sha256" {
  description = "SHA-256 (hex) of the binary at binary_url."
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
  description = "Serve /metrics without a bearer token."
  type        = bool
  default     = false
}

variable "labels" {
  description = "Labels of every resource that takes them."
  type        = map(string)
  default     = {}
}
