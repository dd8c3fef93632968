variable "host_prefix" {
  description = "Per host, a directory prepended to every path on it (binary, config, drives, unit): for hosts that share one filesystem, as the loopback hosts of tests/deploy do. Empty for real hosts."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for h, p in var.host_prefix : p == "" || (startswith(p, "/") && !endswith(p, "/"))])
    error_message = "every host_prefix must be empty or an absolute path without a trailing slash."
  }
}

variable "unit_dir" {
  description = "Directory of the systemd unit on the nodes."
  type        = string
  default     = "/etc/systemd/system"
}

variable "lib_dir" {
  description = "Directory on the nodes for install.sh and unit-run.sh."
  type        = string
  default     = "/usr/local/lib/cairn"
}
