output "hosts" {
  description = "Every host of the cluster, in pool order."
  value       = local.hosts
}

output "pool_args" {
  description = "The pool arguments of `cairn server`, one per pool, as every node gets them."
  value       = local.pool_args
}

output "set_sizes" {
  description = "Erasure-set size of each pool (the largest divisor of its drive count in 2..16)."
  value       = local.set_sizes
}

output "nodes" {
  description = "Per host: address, url, paths (with host_prefix), drive_dirs, args (of the cairn binary), command (a POSIX shell line), exec_start (systemd), install_env (environment of install.sh)."
  value = { for h, n in local.nodes : h => merge(n, {
    command     = local.sh_quote[h]
    exec_start  = local.sd_quote[h]
    install_env = local.install_env[h]
  }) }
}

output "units" {
  description = "Per host: the systemd unit (cairn.service)."
  value       = local.units
}

output "env_file" {
  description = "The env file (cairn.env, mode 0600): root credentials, cluster secret, KMS settings, extra_env."
  value       = local.env_file
  sensitive   = true
}

output "cloud_init" {
  description = "Per host: cloud-config user data that installs and starts the node (needs binary_url)."
  sensitive   = true
  value = { for h, n in local.nodes : h => templatefile("${path.module}/cloud-init.yaml.tftpl", {
    env_file    = local.env_file
    env_path    = n.env_file
    unit        = local.units[h]
    unit_path   = n.unit_file
    install_sh  = file("${path.module}/install.sh")
    lib_dir     = n.lib_dir
    install_env = merge(local.install_env[h], { CAIRN_BINARY_URL = var.binary_url, CAIRN_BINARY_SHA256 = var.binary_sha256, CAIRN_START = "systemd" })
  }) }
}

output "windows_service" {
  description = "Per host: a PowerShell script that runs the node on Windows as a boot-time scheduled task (render-only: no module applies it; a single node: data_dir = C:/cairn)."
  sensitive   = true
  value = { for h, n in local.nodes : h => templatefile("${path.module}/cairn-service.ps1.tftpl", {
    args       = n.args
    env        = local.env
    drive_dirs = n.drive_dirs
  }) }
}

output "environment" {
  description = "The server's environment as a map (what env_file holds): for platforms that take variables rather than a file (a Kubernetes Secret)."
  value       = local.env
  sensitive   = true
}
