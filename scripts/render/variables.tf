# The shared renderer of modules/onprem, aws, azure and gcp: from the cluster's
# shape it builds the `cairn server` command line of every node and renders the
# files that run it (systemd unit, env file, cloud-init, Windows service script).
# It creates nothing: it only computes (outputs are strings).

variable "pools" {
  description = "Server pools, first pool first. Each pool is a list of hosts (IP or DNS name, the same on every node) with drives_per_node drive directories each; its drives are <drive_prefix>1 … <drive_prefix>N on every host of the pool. hosts × drives_per_node must divide into equal erasure sets of 2–16 drives (or be a single drive). Pools after the first are the hook for adding capacity (a new argument of `cairn server`)."
  type = list(object({
    hosts           = list(string)
    drives_per_node = number
    drive_prefix    = optional(string)
  }))

  validation {
    condition     = length(var.pools) >= 1
    error_message = "pools must hold at least one pool."
  }
  validation {
    condition     = alltrue([for p in var.pools : length(p.hosts) >= 1 && length(distinct(p.hosts)) == length(p.hosts)])
    error_message = "every pool needs at least one host, each listed once."
  }
  validation {
    condition     = alltrue([for p in var.pools : p.drives_per_node >= 1 && p.drives_per_node <= 64 && floor(p.drives_per_node) == p.drives_per_node])
    error_message = "drives_per_node must be a whole number from 1 to 64 in every pool."
  }
  # The server's rule (server/internal/layout): a single drive, or a drive count
  # with a divisor between 2 and 16, the erasure-set size.
  validation {
    condition = alltrue([for p in var.pools :
      length(p.hosts) * p.drives_per_node == 1 || anytrue([for s in range(2, 17) : (length(p.hosts) * p.drives_per_node) % s == 0])
    ])
    error_message = "a pool's drive count (hosts × drives_per_node) is not a valid erasure layout: it must divide into equal sets of 2–16 drives (e.g. 4, 6, 12, 16, 18 or 34 drives; not 17, 19 or 23), or be a single drive."
  }
}

variable "port" {
  description = "Port every node listens on (S3, admin API, metrics and node-to-node RPC)."
  type        = number
  default     = 9000

  validation {
    condition     = var.port >= 1 && var.port <= 65535 && floor(var.port) == var.port
    error_message = "port must be a whole number from 1 to 65535."
  }
}

variable "data_dir" {
  description = "Directory holding the drive directories: pool 1's drives are <data_dir>/d1…dN, pool k's (k > 1) <data_dir>/pool<k>/d1…dN, unless a pool sets drive_prefix."
  type        = string
  default     = "/var/lib/cairn"

  validation {
    condition     = can(regex("^([A-Za-z]:)?/", var.data_dir)) && !endswith(var.data_dir, "/")
    error_message = "data_dir must be an absolute path (/… or, for Windows, C:/…) without a trailing slash."
  }
  # The server's cluster endpoints are http://host:port/absolute/path: a drive
  # letter has no place there.
  validation {
    condition     = !can(regex("^[A-Za-z]:", var.data_dir)) || (length(var.pools) == 1 && length(var.pools[0].hosts) == 1)
    error_message = "a Windows data_dir (C:/…) works for a single node with one pool only: cluster endpoints need /absolute/paths."
  }
}

variable "tls" {
  description = "Serve HTTPS with the certificates in <config_dir>/certs (--certs-dir); node endpoints become https://."
  type        = bool
  default     = false
}

variable "binary_path" {
  description = "Where the cairn binary is installed on the nodes."
  type        = string
  default     = "/usr/local/bin/cairn"
}

variable "config_dir" {
  description = "Configuration directory on the nodes: cairn.env (mode 0600), certs/."
  type        = string
  default     = "/etc/cairn"
}

variable "user" {
  description = "System user the server runs as (owns the drive directories)."
  type        = string
  default     = "cairn"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.user))
    error_message = "user must be a valid Linux user name (lowercase letters, digits, _ and -, at most 32 characters)."
  }
}

variable "root_user" {
  description = "Root access key (CAIRN_ROOT_USER)."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.root_user) >= 3 && var.root_user != "cairnadmin"
    error_message = "root_user must have at least 3 characters and not be the dev user cairnadmin."
  }
}

variable "root_password" {
  description = "Root secret key (CAIRN_ROOT_PASSWORD), written only to the env file (mode 0600)."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.root_password) >= 8 && var.root_password != "cairnadmin-dev-secret"
    error_message = "root_password must have at least 8 characters and not be the dev password."
  }
}

variable "cluster_secret" {
  description = "CAIRN_CLUSTER_SECRET, the key material of node-to-node RPC; empty: derived from the root credentials."
  type        = string
  default     = ""
  sensitive   = true
}

variable "kms" {
  description = "KMS of SSE-S3/SSE-KMS. backend: builtin (master_key: base64 of 32 bytes), aws (aws_region; key = key id/ARN/alias; credentials from the instance role), gcp (gcp_key_ring; key = crypto key id; credentials from the VM's service account), azure (azure_vault_url; key = key name; credentials from the managed identity, azure_client_id for a user-assigned one), or none."
  type = object({
    backend         = string
    key             = optional(string, "")
    master_key      = optional(string, "")
    aws_region      = optional(string, "")
    gcp_key_ring    = optional(string, "")
    azure_vault_url = optional(string, "")
    azure_client_id = optional(string, "")
  })
  default   = { backend = "none" }
  sensitive = false

  validation {
    condition     = contains(["none", "builtin", "aws", "gcp", "azure"], var.kms.backend)
    error_message = "kms.backend must be none, builtin, aws, gcp or azure."
  }
  validation {
    condition     = contains(["none", "builtin"], var.kms.backend) || var.kms.key != ""
    error_message = "kms.key (the default key of SSE-S3) is required with an external KMS backend (aws, gcp, azure)."
  }
  validation {
    condition     = var.kms.backend != "builtin" || can(base64decode(var.kms.master_key)) && length(var.kms.master_key) == 44
    error_message = "kms.master_key must be base64 of 32 bytes (44 characters) with the builtin backend: head -c32 /dev/urandom | base64."
  }
  validation {
    condition     = var.kms.backend != "aws" || var.kms.aws_region != ""
    error_message = "kms.aws_region is required with the aws backend."
  }
  validation {
    condition     = var.kms.backend != "gcp" || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+$", var.kms.gcp_key_ring))
    error_message = "kms.gcp_key_ring must be projects/P/locations/L/keyRings/R with the gcp backend."
  }
  validation {
    condition     = var.kms.backend != "azure" || startswith(var.kms.azure_vault_url, "https://")
    error_message = "kms.azure_vault_url (https://NAME.vault.azure.net/) is required with the azure backend."
  }
}

variable "extra_args" {
  description = "Extra `cairn server` flags, placed before the pools (e.g. [\"--scanner-interval\", \"5m\"])."
  type        = list(string)
  default     = []
}

variable "extra_env" {
  description = "Extra environment of the server (written to the env file)."
  type        = map(string)
  default     = {}
}

variable "metrics_public" {
  description = "Serve /metrics without a bearer token (--metrics-public)."
  type        = bool
  default     = false
}

variable "binary_url" {
  description = "cloud-init only: URL the nodes download the cairn binary from (linux, their architecture)."
  type        = string
  default     = ""
}

variable "binary_sha256" {
  description = "cloud-init only: SHA-256 (hex) of the binary at binary_url; the install fails on a mismatch."
  type        = string
  default     = ""

  validation {
    condition     = var.binary_sha256 == "" || can(regex("^[0-9a-f]{64}$", var.binary_sha256))
    error_message = "binary_sha256 must be 64 lowercase hex digits."
  }
}

variable "disks" {
  description = "cloud-init only: per host, the block devices to format (XFS, when blank) and mount on its drive directories, in drive order (e.g. /dev/disk/by-id/…). A host missing here keeps its drives as directories of the root disk."
  type        = map(list(string))
  default     = {}
}
