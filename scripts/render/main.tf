locals {
  scheme = var.tls ? "https" : "http"

  pools = [for k, p in var.pools : {
    hosts           = p.hosts
    drives_per_node = p.drives_per_node
    prefix          = p.drive_prefix != null ? p.drive_prefix : (k == 0 ? "${var.data_dir}/d" : "${var.data_dir}/pool${k + 1}/d")
    range           = p.drives_per_node == 1 ? "1" : "{1...${p.drives_per_node}}"
  }]

  hosts = distinct(flatten([for p in var.pools : p.hosts]))

  # One node, one pool: plain drive paths. Otherwise every pool is one argument
  # of comma-separated endpoint patterns, one per host (README, Clusters); a node
  # serves the endpoints whose host:port is its --address.
  single = length(local.hosts) == 1 && length(var.pools) == 1

  prefix = { for h in local.hosts : h => lookup(var.host_prefix, h, "") }

  pool_args = [for p in local.pools : local.single ?
    "${local.prefix[p.hosts[0]]}${p.prefix}${p.range}" :
    join(",", [for h in p.hosts : "${local.scheme}://${h}:${var.port}${local.prefix[h]}${p.prefix}${p.range}"])
  ]

  # Erasure-set size the server will pick: the largest divisor of the pool's
  # drive count in 2..16 (1 for a single drive).
  set_sizes = [for p in local.pools : length(p.hosts) * p.drives_per_node == 1 ? 1 :
    max(concat([0], [for s in range(2, 17) : s if(length(p.hosts) * p.drives_per_node) % s == 0])...)
  ]

  kms_env = merge(
    var.kms.backend == "none" ? {} : { CAIRN_KMS_BACKEND = var.kms.backend },
    var.kms.key == "" ? {} : { CAIRN_KMS_DEFAULT_KEY = var.kms.key },
    var.kms.backend == "builtin" ? { CAIRN_KMS_MASTER_KEY = var.kms.master_key } : {},
    var.kms.backend == "builtin" && var.kms.key != "" ? { CAIRN_KMS_KEYS = var.kms.key } : {},
    var.kms.backend == "aws" ? { CAIRN_KMS_AWS_REGION = var.kms.aws_region } : {},
    var.kms.backend == "gcp" ? { CAIRN_KMS_GCP_KEYRING = var.kms.gcp_key_ring } : {},
    var.kms.backend == "azure" ? { CAIRN_KMS_AZURE_VAULT_URL = var.kms.azure_vault_url } : {},
    var.kms.backend == "azure" && var.kms.azure_client_id != "" ? { AZURE_CLIENT_ID = var.kms.azure_client_id } : {},
  )

  env = merge(
    {
      CAIRN_ROOT_USER     = var.root_user
      CAIRN_ROOT_PASSWORD = var.root_password
    },
    var.cluster_secret == "" ? {} : { CAIRN_CLUSTER_SECRET = var.cluster_secret },
    local.kms_env,
    var.extra_env,
  )

  nodes = { for h in local.hosts : h => {
    address     = "${h}:${var.port}"
    url         = "${local.scheme}://${h}:${var.port}"
    prefix      = local.prefix[h]
    binary_path = "${local.prefix[h]}${var.binary_path}"
    config_dir  = "${local.prefix[h]}${var.config_dir}"
    env_file    = "${local.prefix[h]}${var.config_dir}/cairn.env"
    unit_file   = "${local.prefix[h]}${var.unit_dir}/cairn.service"
    lib_dir     = "${local.prefix[h]}${var.lib_dir}"
    drive_dirs = flatten([for p in local.pools : contains(p.hosts, h) ?
      [for j in range(1, p.drives_per_node + 1) : "${local.prefix[h]}${p.prefix}${j}"] : []
    ])
    args = concat(
      ["server", "--address", "${h}:${var.port}"],
      var.tls ? ["--certs-dir", "${local.prefix[h]}${var.config_dir}/certs"] : [],
      var.metrics_public ? ["--metrics-public"] : [],
      var.extra_args,
      local.pool_args,
    )
  } }

  # systemd ExecStart quoting: every word in double quotes; \ and " escaped,
  # % (specifiers) and $ (variables) doubled.
  sd_quote = { for h, n in local.nodes : h => join(" ", [for w in concat([n.binary_path], n.args) :
    format("\"%s\"", replace(replace(replace(replace(w, "\\", "\\\\"), "\"", "\\\""), "%", "%%"), "$", "$$"))
  ]) }
  # POSIX shell quoting: every word in single quotes.
  sh_quote = { for h, n in local.nodes : h => join(" ", [for w in concat([n.binary_path], n.args) :
    format("'%s'", replace(w, "'", "'\\''"))
  ]) }

  # Env file (systemd EnvironmentFile, also read by unit-run.sh): KEY="value"
  # with \ and " escaped; newlines are not allowed in values.
  env_file = join("", [for k in sort(keys(local.env)) :
    format("%s=\"%s\"\n", k, replace(replace(local.env[k], "\\", "\\\\"), "\"", "\\\""))
  ])

  units = { for h, n in local.nodes : h => templatefile("${path.module}/cairn.service.tftpl", {
    user       = var.user
    env_file   = n.env_file
    exec_start = local.sd_quote[h]
    drive_dirs = n.drive_dirs
  }) }

  install_env = { for h, n in local.nodes : h => {
    CAIRN_BINARY     = n.binary_path
    CAIRN_USER       = var.user
    CAIRN_CONFIG_DIR = n.config_dir
    CAIRN_DRIVES     = join(" ", n.drive_dirs)
    CAIRN_DISKS      = join(" ", [for i, d in lookup(var.disks, h, []) : "${d}=${n.drive_dirs[i]}"])
    CAIRN_UNIT_FILE  = n.unit_file
    CAIRN_LIB_DIR    = n.lib_dir
  } }
}
