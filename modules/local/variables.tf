variable "cairn_binary" {
  description = "Path of the cairn binary that runs every node (absolute, or relative to the root module's directory)."
  type        = string
  default     = "cairn"

  validation {
    condition     = length(trimspace(var.cairn_binary)) > 0
    error_message = "cairn_binary must name the cairn binary (a path, or a command on PATH)."
  }
}

variable "node_count" {
  description = "Number of nodes (server processes), each on its own loopback port."
  type        = number
  default     = 3

  validation {
    condition     = var.node_count >= 1 && floor(var.node_count) == var.node_count
    error_message = "node_count must be a whole number of at least 1."
  }
}

variable "drives_per_node" {
  description = "Number of drive directories per node. node_count × drives_per_node must form a valid erasure layout: exactly 1 drive, or a total with a divisor between 2 and 16 (the set size)."
  type        = number
  default     = 2

  validation {
    condition     = var.drives_per_node >= 1 && floor(var.drives_per_node) == var.drives_per_node
    error_message = "drives_per_node must be a whole number of at least 1."
  }

  # The server's rule (server/internal/layout.Plan): one drive alone, or a drive
  # count with a divisor in 2..16, the erasure-set size.
  validation {
    condition = (
      var.node_count * var.drives_per_node == 1 ||
      anytrue([for s in range(2, 17) : (var.node_count * var.drives_per_node) % s == 0])
    )
    error_message = "node_count × drives_per_node is not a valid erasure layout: the total drive count must be 1 or have a divisor between 2 and 16 (the erasure-set size), e.g. 2, 6, 16, 18 or 34 drives, not 17, 19 or 23."
  }
}

variable "base_port" {
  description = "Port of node 1 on 127.0.0.1; node i listens on base_port + i - 1 (S3, admin API, metrics and node-to-node RPC share it)."
  type        = number
  default     = 9000

  validation {
    condition     = floor(var.base_port) == var.base_port && var.base_port >= 1024 && var.base_port + var.node_count - 1 <= 65535
    error_message = "base_port must be a whole number from 1024 and leave room for one port per node: base_port + node_count - 1 must not exceed 65535."
  }
}

variable "work_dir" {
  description = "Directory for the cluster's data (data/nodeI/dJ), logs (logs/nodeI.log) and PID files (run/nodeI.pid); relative paths are taken from the root module's directory. Destroy removes data/ and run/ and keeps logs/."
  type        = string

  validation {
    condition     = length(trimspace(var.work_dir)) > 0
    error_message = "work_dir must be a directory path."
  }
}

variable "root_user" {
  description = "Root access key (CAIRN_ROOT_USER)."
  type        = string
  default     = "admin"
  sensitive   = true

  validation {
    condition     = length(var.root_user) >= 3
    error_message = "root_user must have at least 3 characters."
  }

  validation {
    condition     = var.root_user != "cairnadmin"
    error_message = "root_user must not be cairnadmin, the built-in dev user: the server refuses it outside --dev."
  }
}

variable "root_password" {
  description = "Root secret key (CAIRN_ROOT_PASSWORD), at least 8 characters. Changing it (or any other input but ready_timeout) replaces the cluster: its data is deleted."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.root_password) >= 8
    error_message = "root_password must have at least 8 characters."
  }

  validation {
    condition     = var.root_password != "cairnadmin-dev-secret"
    error_message = "root_password must not be the built-in dev password: the server refuses it outside --dev."
  }
}

variable "metrics_public" {
  description = "Serve /metrics without a bearer token (--metrics-public); convenient on loopback."
  type        = bool
  default     = true
}

variable "extra_args" {
  description = "Extra flags for `cairn server`, placed before the pool (e.g. [\"--scanner-interval\", \"10s\"])."
  type        = list(string)
  default     = []
}

variable "ready_timeout" {
  description = "Seconds to wait for every node to answer /cairn/health/ready before the apply fails (and the started nodes are stopped)."
  type        = number
  default     = 90

  validation {
    condition     = var.ready_timeout >= 1
    error_message = "ready_timeout must be at least 1 second."
  }
}
