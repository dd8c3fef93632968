# terraform test with a mocked aws provider (the schema comes from the
# stand-in provider of tests/deploy/standin; nothing reaches AWS).

mock_provider "aws" {
  override_resource {
    target = aws_kms_key.sse
    values = { arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", key_id = "1234abcd-12ab-34cd-56ef-1234567890ab" }
  }
  override_resource {
    target = aws_iam_instance_profile.node
    values = { name = "tst-node" }
  }
}

variables {
  name          = "tst"
  ami_id        = "ami-0123456789abcdef0"
  vpc_id        = "vpc-1"
  subnet_ids    = ["subnet-a", "subnet-b", "subnet-c"]
  root_password = "aws-test-secret"
  binary_url    = "https://downloads.example.com/cairn-linux-amd64"
  binary_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
}

override_data {
  target = data.aws_subnet.this["subnet-a"]
  values = { cidr_block = "10.0.1.0/24", availability_zone = "eu-west-1a" }
}
override_data {
  target = data.aws_subnet.this["subnet-b"]
  values = { cidr_block = "10.0.2.0/24", availability_zone = "eu-west-1b" }
}
override_data {
  target = data.aws_subnet.this["subnet-c"]
  values = { cidr_block = "10.0.3.0/24", availability_zone = "eu-west-1c" }
}

run "four_nodes_over_three_zones" {
  command = apply
  variables {
    node_count      = 4
    drives_per_node = 4
  }

  assert {
    condition     = [for n in output.nodes : n.az] == ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1a"]
    error_message = "nodes not spread round-robin over the zones: ${jsonencode(output.nodes)}"
  }
  assert {
    condition     = [for i in aws_instance.node : i.private_ip] == ["10.0.1.10", "10.0.2.10", "10.0.3.10", "10.0.1.11"]
    error_message = "node addresses: ${jsonencode([for i in aws_instance.node : i.private_ip])}"
  }
  assert {
    condition     = [for i in aws_instance.node : i.subnet_id] == ["subnet-a", "subnet-b", "subnet-c", "subnet-a"]
    error_message = "node subnets"
  }
  assert {
    condition     = length(aws_ebs_volume.drive) == 16 && length(aws_volume_attachment.drive) == 16
    error_message = "want 16 EBS volumes and attachments (4 nodes × 4 drives)"
  }
  assert {
    condition     = alltrue([for k, v in aws_ebs_volume.drive : v.availability_zone == output.nodes[tonumber(split("-", k)[0])].az && v.encrypted && v.size == 100 && v.type == "gp3"])
    error_message = "every volume must be encrypted gp3 in its node's zone"
  }
  assert {
    condition     = [for j in range(4) : aws_volume_attachment.drive["3-${j}"].device_name] == ["/dev/sdf", "/dev/sdg", "/dev/sdh", "/dev/sdi"] && aws_volume_attachment.drive["3-2"].instance_id == aws_instance.node[3].id
    error_message = "attachments of node 4"
  }
  assert {
    condition     = output.pool_args == ["http://10.0.1.10:9000/var/lib/cairn/d{1...4},http://10.0.2.10:9000/var/lib/cairn/d{1...4},http://10.0.3.10:9000/var/lib/cairn/d{1...4},http://10.0.1.11:9000/var/lib/cairn/d{1...4}"]
    error_message = "pool: ${jsonencode(output.pool_args)}"
  }
  assert {
    condition     = output.set_sizes == [16]
    error_message = "16 drives make one set of 16"
  }

  # KMS key, instance role and its permissions.
  assert {
    condition     = aws_kms_key.sse[0].enable_key_rotation && aws_kms_alias.sse[0].name == "alias/tst-sse"
    error_message = "created KMS key must rotate and carry alias/tst-sse"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.kms.policy).Statement[0].Resource == ["arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"] && toset(jsondecode(aws_iam_role_policy.kms.policy).Statement[0].Action) == toset(["kms:GenerateDataKey", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:DescribeKey"])
    error_message = "role policy must grant the data-key actions on the cluster's key only: ${aws_iam_role_policy.kms.policy}"
  }
  assert {
    condition     = aws_iam_role_policy.kms.role == aws_iam_role.node.id && aws_iam_instance_profile.node.role == aws_iam_role.node.name
    error_message = "policy and instance profile must be on the node role"
  }
  assert {
    condition     = jsondecode(aws_iam_role.node.assume_role_policy).Statement[0].Principal.Service == "ec2.amazonaws.com"
    error_message = "node role must be assumable by EC2"
  }
  assert {
    condition     = alltrue([for i in aws_instance.node : i.iam_instance_profile == "tst-node" && i.metadata_options[0].http_tokens == "required"])
    error_message = "every instance needs the instance profile and IMDSv2"
  }

  # cloud-init from the shared renderer.
  assert {
    condition     = startswith(output.cloud_init["10.0.2.10"], "#cloud-config\n")
    error_message = "user data must be a cloud-config"
  }
  assert {
    condition     = strcontains(base64decode(yamldecode(output.cloud_init["10.0.2.10"]).write_files[1].content), "ExecStart=\"/usr/local/bin/cairn\" \"server\" \"--address\" \"10.0.2.10:9000\" \"http://10.0.1.10:9000/var/lib/cairn/d{1...4},http://10.0.2.10:9000/var/lib/cairn/d{1...4},http://10.0.3.10:9000/var/lib/cairn/d{1...4},http://10.0.1.11:9000/var/lib/cairn/d{1...4}\"\n")
    error_message = "node 2's unit must run the pool with its own address"
  }
  assert {
    condition = alltrue([for s in [
      "CAIRN_KMS_BACKEND=\"aws\"",
      "CAIRN_KMS_AWS_REGION=\"eu-west-1\"",
      "CAIRN_KMS_DEFAULT_KEY=\"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"",
      "CAIRN_ROOT_PASSWORD=\"aws-test-secret\"",
    ] : strcontains(base64decode(yamldecode(output.cloud_init["10.0.1.10"]).write_files[0].content), s)])
    error_message = "env file must select AWS KMS with the cluster's key and region"
  }
  assert {
    condition     = !strcontains(base64decode(yamldecode(output.cloud_init["10.0.1.10"]).write_files[0].content), "CAIRN_KMS_AWS_ACCESS_KEY")
    error_message = "no static AWS keys: the instance role is the credential"
  }
  assert {
    condition     = strcontains(jsonencode(yamldecode(output.cloud_init["10.0.1.11"]).runcmd), "CAIRN_DISKS=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${replace(aws_ebs_volume.drive["3-0"].id, "-", "")}=/var/lib/cairn/d1")
    error_message = "node 4 must mount its first volume (by NVMe volume id) on d1"
  }

  # Load balancer.
  assert {
    condition     = aws_lb.s3.load_balancer_type == "network" && aws_lb.s3.internal && toset(aws_lb.s3.subnets) == toset(["subnet-a", "subnet-b", "subnet-c"])
    error_message = "internal NLB over every subnet"
  }
  assert {
    condition     = aws_lb_target_group.s3.health_check[0].path == "/cairn/health/ready" && length(aws_lb_target_group_attachment.node) == 4 && aws_lb_listener.s3.port == 9000
    error_message = "target group health check, attachments and listener"
  }
  assert {
    condition     = output.endpoint == "http://${aws_lb.s3.dns_name}:9000"
    error_message = "endpoint is the NLB"
  }
}

run "existing_kms_key" {
  command = apply
  variables {
    node_count      = 3
    drives_per_node = 2
    kms             = { create = false, key_arn = "arn:aws:kms:us-east-2:111122223333:key/existing" }
  }
  assert {
    condition     = length(aws_kms_key.sse) == 0 && jsondecode(aws_iam_role_policy.kms.policy).Statement[0].Resource == ["arn:aws:kms:us-east-2:111122223333:key/existing"]
    error_message = "an existing key: none created, the policy names it"
  }
  assert {
    condition     = strcontains(base64decode(yamldecode(output.cloud_init["10.0.1.10"]).write_files[0].content), "CAIRN_KMS_AWS_REGION=\"us-east-2\"")
    error_message = "region comes from the key's ARN"
  }
  assert {
    condition     = output.set_sizes == [6]
    error_message = "3 × 2 drives: one set of 6"
  }
}

run "missing_kms_key" {
  command = plan
  variables {
    kms = { create = false }
  }
  expect_failures = [var.kms]
}

run "seventeen_drives" {
  command = plan
  variables {
    node_count      = 17
    drives_per_node = 1
  }
  expect_failures = [var.drives_per_node]
}

run "too_many_drives_per_instance" {
  command = plan
  variables {
    drives_per_node = 21
  }
  expect_failures = [var.drives_per_node]
}

run "bad_checksum" {
  command = plan
  variables {
    binary_sha256 = "not-a-sha"
  }
  expect_failures = [var.binary_sha256]
}

run "ip_offset_in_reserved_range" {
  command = plan
  variables {
    ip_offset = 2
  }
  expect_failures = [var.ip_offset]
}
