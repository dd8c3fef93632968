# Cairn on EC2: node_count instances spread over the subnets' availability
# zones, drives_per_node EBS volumes each (separate resources: replacing an
# instance keeps its data), a network load balancer, a security group, an
# instance profile whose role may use one KMS key for SSE-KMS, and cloud-init
# from the shared renderer (scripts/render) that formats and mounts the volumes
# and runs `cairn server` under systemd.

data "aws_subnet" "this" {
  for_each = toset(var.subnet_ids)
  id       = each.value
}

locals {
  subnet_count = length(var.subnet_ids)

  nodes = [for i in range(var.node_count) : {
    index     = i
    name      = "${var.name}-${i + 1}"
    subnet_id = var.subnet_ids[i % local.subnet_count]
    az        = data.aws_subnet.this[var.subnet_ids[i % local.subnet_count]].availability_zone
    ip        = cidrhost(data.aws_subnet.this[var.subnet_ids[i % local.subnet_count]].cidr_block, var.ip_offset + floor(i / local.subnet_count))
  }]

  drives = flatten([for n in local.nodes : [for j in range(var.drives_per_node) : {
    key    = "${n.index}-${j}"
    node   = n.index
    drive  = j
    az     = n.az
    device = "/dev/sd${substr("fghijklmnopqrstuvwxy", j, 1)}"
  }]])

  kms_key_arn = var.kms.create ? aws_kms_key.sse[0].arn : var.kms.key_arn

  tags = merge({ "cairn:cluster" = var.name }, var.tags)
}

module "render" {
  source = "../../scripts/render"

  pools          = [{ hosts = [for n in local.nodes : n.ip], drives_per_node = var.drives_per_node }]
  port           = var.port
  data_dir       = "/var/lib/cairn"
  root_user      = var.root_user
  root_password  = var.root_password
  extra_args     = var.extra_args
  metrics_public = var.metrics_public
  binary_url     = var.binary_url
  binary_sha256  = var.binary_sha256
  kms = {
    backend    = "aws"
    key        = local.kms_key_arn
    aws_region = split(":", local.kms_key_arn)[3]
  }
  # Nitro instances show EBS volumes as NVMe devices named by volume id.
  disks = { for n in local.nodes : n.ip => [
    for j in range(var.drives_per_node) : "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${replace(aws_ebs_volume.drive["${n.index}-${j}"].id, "-", "")}"
  ] }
}

# --- KMS: one key for SSE-S3/SSE-KMS, usable by the instance role only for data keys.

resource "aws_kms_key" "sse" {
  count                   = var.kms.create ? 1 : 0
  description             = "Cairn ${var.name}: seals the per-object data keys of SSE-S3 and SSE-KMS"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = local.tags
}

resource "aws_kms_alias" "sse" {
  count         = var.kms.create ? 1 : 0
  name          = "alias/${var.name}-sse"
  target_key_id = aws_kms_key.sse[0].key_id
}

# --- IAM: the instances' identity (instance profile; no static keys anywhere).

resource "aws_iam_role" "node" {
  name = "${var.name}-node"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = local.tags
}

resource "aws_iam_role_policy" "kms" {
  name = "${var.name}-kms"
  role = aws_iam_role.node.id
  # What server/internal/kms's AWS backend calls: GenerateDataKey (seal),
  # Decrypt (open), ReEncrypt (key rotation), DescribeKey (key status).
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "CairnSSE"
      Effect   = "Allow"
      Action   = ["kms:GenerateDataKey", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:DescribeKey"]
      Resource = [local.kms_key_arn]
    }]
  })
}

resource "aws_iam_instance_profile" "node" {
  name = "${var.name}-node"
  role = aws_iam_role.node.name
  tags = local.tags
}

# --- Network: nodes reach each other; clients and the load balancer reach the port.

resource "aws_security_group" "node" {
  name        = "${var.name}-node"
  description = "Cairn ${var.name} nodes"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "peers" {
  security_group_id            = aws_security_group.node.id
  description                  = "node-to-node RPC and S3"
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
  referenced_security_group_id = aws_security_group.node.id
}

# The NLB's health checks come from its addresses in the subnets.
resource "aws_vpc_security_group_ingress_rule" "subnets" {
  for_each          = toset(var.subnet_ids)
  security_group_id = aws_security_group.node.id
  description       = "load balancer health checks and traffic"
  ip_protocol       = "tcp"
  from_port         = var.port
  to_port           = var.port
  cidr_ipv4         = data.aws_subnet.this[each.value].cidr_block
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  for_each          = toset(var.allowed_cidrs)
  security_group_id = aws_security_group.node.id
  description       = "S3 clients"
  ip_protocol       = "tcp"
  from_port         = var.port
  to_port           = var.port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.node.id
  description       = "binary download, KMS, peers"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

# --- Drives and instances.

resource "aws_ebs_volume" "drive" {
  for_each          = { for d in local.drives : d.key => d }
  availability_zone = each.value.az
  size              = var.drive_size_gb
  type              = var.drive_type
  encrypted         = true
  tags              = merge(local.tags, { Name = "${var.name}-${each.value.node + 1}-d${each.value.drive + 1}" })
}

resource "aws_instance" "node" {
  count                  = var.node_count
  ami                    = var.ami_id
  instance_type          = var.instance_type
  subnet_id              = local.nodes[count.index].subnet_id
  private_ip             = local.nodes[count.index].ip
  vpc_security_group_ids = [aws_security_group.node.id]
  iam_instance_profile   = aws_iam_instance_profile.node.name
  user_data_base64       = base64gzip(module.render.cloud_init[local.nodes[count.index].ip])

  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_size = 20
    encrypted   = true
  }

  tags = merge(local.tags, { Name = local.nodes[count.index].name })

  # A changed configuration is rolled out by replacing instances one at a time
  # (terraform apply -replace='module.cairn.aws_instance.node[0]', …): the data
  # volumes are kept and re-mounted. Replacing all at once would stop the cluster.
  lifecycle {
    ignore_changes = [user_data_base64]
  }
}

resource "aws_volume_attachment" "drive" {
  for_each    = { for d in local.drives : d.key => d }
  device_name = each.value.device
  volume_id   = aws_ebs_volume.drive[each.key].id
  instance_id = aws_instance.node[each.value.node].id
}

# --- Load balancer: TCP to every node, healthy when /cairn/health/ready answers.

resource "aws_lb" "s3" {
  name               = "${var.name}-s3"
  load_balancer_type = "network"
  internal           = var.internal_lb
  subnets            = var.subnet_ids
  tags               = local.tags
}

resource "aws_lb_target_group" "s3" {
  name        = "${var.name}-s3"
  port        = var.port
  protocol    = "TCP"
  vpc_id      = var.vpc_id
  target_type = "instance"

  health_check {
    protocol            = "HTTP"
    path                = "/cairn/health/ready"
    port                = "traffic-port"
    healthy_threshold   = 2
    unhealthy_threshold = 2
    interval            = 10
  }
  tags = local.tags
}

resource "aws_lb_target_group_attachment" "node" {
  count            = var.node_count
  target_group_arn = aws_lb_target_group.s3.arn
  target_id        = aws_instance.node[count.index].id
  port             = var.port
}

resource "aws_lb_listener" "s3" {
  load_balancer_arn = aws_lb.s3.arn
  port              = var.port
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.s3.arn
  }
  tags = local.tags
}
