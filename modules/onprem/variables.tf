variable "hosts" {
  description = "The nodes of the first pool: IP addresses or DNS names that every node and the SSH client reach them by. Each runs one `cairn server` listening on <host>:<port>."
  type        = list(string)

  validation {
    condition     = length(var.hosts) >= 1 && length(distinct(var.hosts)) == length(var.hosts)
    error_message = "hosts must list at least one host, each once."
  }
}

variable "drives_per_node" {
  description = "Drive directories per host in the first pool (<data_dir>/d1…dN; mount your disks there, or set disks). hosts × drives_per_node must divide into equal erasure sets of 2–16 drives (or be one drive)."
  type        = number
  default     = 4

  validation {
    condition     = var.drives_per_node >= 1 && var.drives_per_node <= 64 && floor(var.drives_per_node) == var.drives_per_node
    error_message = "drives_per_node must be a whole number from 1 to 64."
  }
  validation {
    condition = (
      length(var.hosts) * var.drives_per_node == 1 ||
      anytrue([for s in range(2, 17) : (length(var.hosts) * var.drives_per_node) % s == 0])
    )
    error_message = "length(hosts) × drives_per_node is not a valid erasure layout: the drive count must divide into equal sets of 2–16 drives (e.g. 4, 6, 12, 16, 18; not 17, 19 or 23), or be a single drive."
  }
}

variable "additional_pools" {
  description = "Hook for pool addition: further pools, each one more argument of `cairn server` on every node (drives at <data_dir>/pool<k>/d1…dN). Same layout rule as the first pool. Note: today the server adds pools live only on a single node; a multi-node cluster runs one pool (README, Limitations)."
  type = list(object({
    hosts           = list(string)
    drives_per_node = number
  }))
  default = []
}

variable "ssh" {
  description = "How to reach the hosts: user, private_key_file (read by Terraform for the provisioners and passed to `ssh -i` for the rolling restart), port, known_hosts_file (empty: accept-new into the user's known_hosts). A user other than root needs passwordless sudo."
  type = object({
    user             = string
    private_key_file = string
    port             = optional(number, 22)
    known_hosts_file = optional(string, "")
    timeout          = optional(string, "2m")
  })

  validation {
    condition     = var.ssh.port >= 1 && var.ssh.port <= 65535
    error_message = "ssh.port must be from 1 to 65535."
  }
  validation {
    condition     = fileexists(var.ssh.private_key_file)
    error_message = "ssh.private_key_file must name an existing private key file."
  }
}

variable "binary_source" {
  description = "Local path of the cairn binary (linux, the hosts' architecture: `GOOS=linux make static`) uploaded to every host. A new binary (another SHA-256) is rolled out like a configuration change."
  type        = string

  validation {
    condition     = fileexists(var.binary_source)
    error_message = "binary_source must name the cairn binary file (GOOS=linux make static builds bin/cairn-static)."
  }
}

variable "root_user" {
  description = "Root access key (CAIRN_ROOT_USER)."
  type        = string
  default     = "admin"
  sensitive   = true
}

variable "root_password" {
  description = "Root secret key (CAIRN_ROOT_PASSWORD), at least 8 characters; kept on the hosts only in the env file (mode 0600)."
  type        = string
  sensitive   = true
}

variable "cluster_secret" {
  description = "CAIRN_CLUSTER_SECRET for node-to-node RPC; empty: derived from the root credentials."
  type        = string
  default     = ""
  sensitive   = true
}

variable "kms" {
  description = "KMS of SSE-S3/SSE-KMS, as scripts/render takes it: { backend = none | builtin | aws | gcp | azure, key, master_key, aws_region, gcp_key_ring, azure_vault_url, azure_client_id }."
  type = object({
    backend         = string
    key             = optional(string, "")
    master_key      = optional(string, "")
    aws_region      = optional(string, "")
    gcp_key_ring    = optional(string, "")
    azure_vault_url = optional(string, "")
    azure_client_id = optional(string, "")
  })
  default = { backend = "none" }
}

variable "port" {
  description = "Port of every node (S3, admin, metrics, node-to-node RPC)."
  type        = number
  default     = 9000
}

variable "data_dir" {
  description = "Directory of the drive directories on every host."
  type        = string
  default     = "/var/lib/cairn"
}

variable "user" {
  description = "System user the server runs as; created when missing."
  type        = string
  default     = "cairn"
}

variable "metrics_public" {
  description = "Serve /metrics without a bearer token."
  type        = bool
  default     = false
}

variable "extra_args" {
  description = "Extra `cairn server` flags (before the pools)."
  type        = list(string)
  default     = []
}

variable "extra_env" {
  description = "Extra environment of the server (env file)."
  type        = map(string)
  default     = {}
}

variable "service_manager" {
  description = "What runs the unit: systemd (systemctl), or unit-run (scripts/render/unit-run.sh, a small supervisor that runs the unit's ExecStart for hosts without systemd, e.g. containers)."
  type        = string
  default     = "systemd"

  validation {
    condition     = contains(["systemd", "unit-run"], var.service_manager)
    error_message = "service_manager must be systemd or unit-run."
  }
}

variable "service_commands" {
  description = "Override the service commands run on the hosts (as root): start, restart, stop, status (exit 0 when running). {unit} is replaced by the unit file's path, {lib} by the directory of unit-run.sh. Unset ones come from service_manager."
  type = object({
    start   = optional(string)
    restart = optional(string)
    stop    = optional(string)
    status  = optional(string)
  })
  default = {}
}

variable "host_prefix" {
  description = "Per host, a directory prepended to every installed path (binary, /etc/cairn, unit, drives): for hosts sharing one filesystem (tests/deploy's loopback hosts). Leave empty for real hosts."
  type        = map(string)
  default     = {}
}

variable "destroy_data" {
  description = "terraform destroy also deletes the drive directories (the data). Off by default: destroy stops the service and removes the binary, unit and configuration only."
  type        = bool
  default     = false
}

variable "ready_timeout" {
  description = "Seconds to wait for each node to answer /cairn/health/ready after a (re)start."
  type        = number
  default     = 120
}
