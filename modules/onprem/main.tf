# Cairn on Linux hosts over SSH, with built-in Terraform only.
#
#   terraform_data.host[h]   one per host, lives as long as the host is in the
#                            cluster; its destroy-time provisioner stops the
#                            service and removes what the module installed.
#   terraform_data.binary[h] replaced when the binary changes: uploads and installs it.
#   terraform_data.config[h] replaced whenever the host's other files change (env
#                            file, unit, scripts): uploads them and runs
#                            install.sh (user, directories, files); starts nothing.
#   terraform_data.rollout   replaced whenever any config changes: a fresh
#                            cluster is started on every host at once; a running
#                            one is restarted one host at a time, each waited for
#                            until /cairn/health/ready (scripts/rollout.sh, ssh).

module "render" {
  source = "../../scripts/render"

  pools = concat(
    [{ hosts = var.hosts, drives_per_node = var.drives_per_node }],
    [for p in var.additional_pools : { hosts = p.hosts, drives_per_node = p.drives_per_node }],
  )
  port           = var.port
  data_dir       = var.data_dir
  user           = var.user
  root_user      = var.root_user
  root_password  = var.root_password
  cluster_secret = var.cluster_secret
  kms            = var.kms
  extra_args     = var.extra_args
  extra_env      = var.extra_env
  metrics_public = var.metrics_public
  host_prefix    = var.host_prefix
}

locals {
  render_dir = "${path.module}/../../scripts/render"
  sudo       = var.ssh.user == "root" ? "" : "sudo -n "
  nodes      = module.render.nodes

  default_commands = {
    systemd = {
      start   = "systemctl daemon-reload && systemctl enable cairn.service && systemctl start cairn.service"
      restart = "systemctl daemon-reload && systemctl restart cairn.service"
      stop    = "systemctl disable --now cairn.service"
      status  = "systemctl is-active --quiet cairn.service"
    }
    unit-run = {
      start   = "{lib}/unit-run.sh start {unit}"
      restart = "{lib}/unit-run.sh restart {unit}"
      stop    = "{lib}/unit-run.sh stop {unit}"
      status  = "{lib}/unit-run.sh status {unit} >/dev/null"
    }
  }
  commands = { for h, n in local.nodes : h => {
    for k, v in local.default_commands[var.service_manager] :
    k => replace(replace(coalesce(lookup(var.service_commands, k, null), v), "{unit}", n.unit_file), "{lib}", n.lib_dir)
  } }

  binary_sha256 = filesha256(var.binary_source)
  install_sh    = file("${local.render_dir}/install.sh")
  unit_run_sh   = file("${local.render_dir}/unit-run.sh")

  # Everything a host's files depend on; a change replaces terraform_data.config[h].
  config_hash = { for h, n in local.nodes : h => sha256(join("\n", [
    sha256(module.render.env_file), sha256(module.render.units[h]),
    sha256(local.install_sh), sha256(local.unit_run_sh), jsonencode(n.install_env),
  ])) }

  stage     = { for h, n in local.nodes : h => "${n.prefix}/tmp/cairn-stage-${substr(local.config_hash[h], 0, 12)}" }
  bin_stage = { for h, n in local.nodes : h => "${n.prefix}/tmp/cairn-stage-bin-${substr(local.binary_sha256, 0, 12)}" }

  # install.sh's command line on a host, with its environment.
  install_cmd = { for h, n in local.nodes : h => { for what, stage in { binary = local.bin_stage[h], config = local.stage[h] } : what => join(" ", concat(
    [trimspace("${local.sudo}env")],
    [for k, v in merge(n.install_env, { CAIRN_STAGE = stage, CAIRN_START = "none" }) : "${k}='${v}'"],
    ["sh ${stage}/install.sh && rm -rf ${stage}"],
  )) } }
}

resource "terraform_data" "host" {
  for_each = toset(module.render.hosts)

  # What the destroy-time provisioner needs (it may refer only to self).
  input = {
    host             = each.key
    user             = var.ssh.user
    port             = var.ssh.port
    private_key_file = abspath(var.ssh.private_key_file)
    timeout          = var.ssh.timeout
    cleanup = join(" && ", compact([
      "${local.sudo}sh -c '${replace(local.commands[each.key].status, "'", "'\\''")}' && ${local.sudo}sh -c '${replace(local.commands[each.key].stop, "'", "'\\''")}' || true",
      "${local.sudo}rm -f ${local.nodes[each.key].binary_path} ${local.nodes[each.key].env_file} ${local.nodes[each.key].unit_file} ${local.nodes[each.key].unit_file}.pid ${local.nodes[each.key].lib_dir}/install.sh ${local.nodes[each.key].lib_dir}/unit-run.sh",
      var.destroy_data ? "${local.sudo}rm -rf ${join(" ", local.nodes[each.key].drive_dirs)}" : "",
      var.service_manager == "systemd" ? "(${local.sudo}systemctl daemon-reload || true)" : "",
    ]))
  }

  connection {
    type        = "ssh"
    host        = self.input.host
    user        = self.input.user
    port        = self.input.port
    private_key = file(self.input.private_key_file)
    timeout     = self.input.timeout
  }

  provisioner "remote-exec" {
    inline = ["echo cairn: host $(hostname) reachable"]
  }

  provisioner "remote-exec" {
    when   = destroy
    inline = [self.input.cleanup]
  }
}

resource "terraform_data" "binary" {
  for_each   = toset(module.render.hosts)
  depends_on = [terraform_data.host]

  triggers_replace = local.binary_sha256

  connection {
    type        = "ssh"
    host        = each.key
    user        = var.ssh.user
    port        = var.ssh.port
    private_key = file(var.ssh.private_key_file)
    timeout     = var.ssh.timeout
  }

  provisioner "remote-exec" {
    inline = ["umask 077 && mkdir -p ${local.bin_stage[each.key]}"]
  }
  provisioner "file" {
    source      = var.binary_source
    destination = "${local.bin_stage[each.key]}/cairn"
  }
  provisioner "remote-exec" {
    inline = [
      "echo ${base64encode(local.install_sh)} | base64 -d > ${local.bin_stage[each.key]}/install.sh",
      local.install_cmd[each.key].binary,
    ]
  }
}

resource "terraform_data" "config" {
  for_each   = toset(module.render.hosts)
  depends_on = [terraform_data.binary]

  triggers_replace = local.config_hash[each.key]

  connection {
    type        = "ssh"
    host        = each.key
    user        = var.ssh.user
    port        = var.ssh.port
    private_key = file(var.ssh.private_key_file)
    timeout     = var.ssh.timeout
  }

  provisioner "remote-exec" {
    inline = ["umask 077 && mkdir -p ${local.stage[each.key]}"]
  }
  provisioner "file" {
    content     = module.render.env_file
    destination = "${local.stage[each.key]}/cairn.env"
  }
  # The files without secrets travel inside the script (one SSH session fewer each).
  provisioner "remote-exec" {
    inline = concat(
      [for name, content in {
        "cairn.service" = module.render.units[each.key]
        "install.sh"    = local.install_sh
        "unit-run.sh"   = local.unit_run_sh
      } : "echo ${base64encode(content)} | base64 -d > ${local.stage[each.key]}/${name}"],
      [local.install_cmd[each.key].config],
    )
  }
}

resource "terraform_data" "rollout" {
  depends_on = [terraform_data.config]

  triggers_replace = sha256(jsonencode([local.binary_sha256, local.config_hash]))

  provisioner "local-exec" {
    command     = "sh \"$ROLLOUT\""
    interpreter = ["/bin/sh", "-c"]
    environment = {
      ROLLOUT       = abspath("${path.module}/scripts/rollout.sh")
      SSH_USER      = var.ssh.user
      SSH_PORT      = tostring(var.ssh.port)
      SSH_KEY       = abspath(var.ssh.private_key_file)
      KNOWN_HOSTS   = var.ssh.known_hosts_file
      READY_TIMEOUT = tostring(var.ready_timeout)
      SUDO          = local.sudo
      # One line per host, in pool order: host, address, status, start, restart (tab-separated).
      NODES = join("\n", [for h in module.render.hosts : join("\t", [
        h, local.nodes[h].address, local.commands[h].status, local.commands[h].start, local.commands[h].restart,
      ])])
    }
  }
}
