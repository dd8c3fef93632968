# An N-node × M-drive Cairn cluster as processes on this machine, on 127.0.0.1.
# Only built-in Terraform: one terraform_data whose create-time provisioner starts
# every node (scripts/cluster.sh start) and whose destroy-time provisioner stops
# them and removes the data (scripts/cluster.sh stop).

locals {
  work_dir = abspath(var.work_dir)
  script   = abspath("${path.module}/scripts/cluster.sh")

  nodes = [for i in range(var.node_count) : {
    index   = i + 1
    address = "127.0.0.1:${var.base_port + i}"
    url     = "http://127.0.0.1:${var.base_port + i}"
    dir     = "${local.work_dir}/data/node${i + 1}"
  }]

  # README "Clusters": one endpoint pattern per node, comma-separated; a single node
  # takes plain local paths.
  drive_suffix  = var.drives_per_node == 1 ? "/d1" : "/d{1...${var.drives_per_node}}"
  node_patterns = [for n in local.nodes : "${n.url}${n.dir}${local.drive_suffix}"]
  pool          = var.node_count == 1 ? "${local.nodes[0].dir}${local.drive_suffix}" : join(",", local.node_patterns)

  args = concat(var.metrics_public ? ["--metrics-public"] : [], var.extra_args)
}

resource "terraform_data" "cluster" {
  # Any change of the cluster's shape or credentials builds a new cluster.
  triggers_replace = {
    binary          = var.cairn_binary
    node_count      = var.node_count
    drives_per_node = var.drives_per_node
    base_port       = var.base_port
    work_dir        = local.work_dir
    args            = join(" ", local.args)
    credentials     = sha256("${var.root_user}\n${var.root_password}")
  }

  # What the destroy-time provisioner needs (it may only refer to self).
  input = {
    script     = local.script
    work_dir   = local.work_dir
    node_count = tostring(var.node_count)
    endpoint   = local.nodes[0].url
    urls       = join(" ", [for n in local.nodes : n.url])
  }

  provisioner "local-exec" {
    command     = "sh \"$CLUSTER_SCRIPT\" start"
    interpreter = ["/bin/sh", "-c"]
    environment = {
      CLUSTER_SCRIPT      = local.script
      CAIRN_BIN           = var.cairn_binary
      WORK_DIR            = local.work_dir
      NODE_COUNT          = tostring(var.node_count)
      DRIVES_PER_NODE     = tostring(var.drives_per_node)
      ADDRESSES           = join(" ", [for n in local.nodes : n.address])
      POOL                = local.pool
      SERVER_ARGS         = join(" ", local.args)
      READY_TIMEOUT       = tostring(var.ready_timeout)
      CAIRN_ROOT_USER     = var.root_user
      CAIRN_ROOT_PASSWORD = var.root_password
    }
  }

  provisioner "local-exec" {
    when        = destroy
    command     = "sh \"$CLUSTER_SCRIPT\" stop"
    interpreter = ["/bin/sh", "-c"]
    environment = {
      CLUSTER_SCRIPT = self.input.script
      WORK_DIR       = self.input.work_dir
      NODE_COUNT     = self.input.node_count
    }
  }
}
