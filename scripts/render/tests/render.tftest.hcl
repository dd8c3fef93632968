# terraform test of the shared renderer (no provider: it only computes).

variables {
  root_user     = "admin"
  root_password = "render-test-secret"
}

run "three_hosts_one_pool" {
  command = plan
  variables {
    pools = [{ hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3"], drives_per_node = 4 }]
  }
  assert {
    condition     = output.pool_args == ["http://10.0.0.1:9000/var/lib/cairn/d{1...4},http://10.0.0.2:9000/var/lib/cairn/d{1...4},http://10.0.0.3:9000/var/lib/cairn/d{1...4}"]
    error_message = "pool: ${jsonencode(output.pool_args)}"
  }
  assert {
    condition     = output.set_sizes == [12]
    error_message = "12 drives: one set of 12"
  }
  assert {
    condition     = output.nodes["10.0.0.2"].args == ["server", "--address", "10.0.0.2:9000", output.pool_args[0]]
    error_message = "node 2 args: ${jsonencode(output.nodes["10.0.0.2"].args)}"
  }
  assert {
    condition     = strcontains(output.units["10.0.0.2"], "\nExecStart=\"/usr/local/bin/cairn\" \"server\" \"--address\" \"10.0.0.2:9000\" \"${output.pool_args[0]}\"\n")
    error_message = "unit ExecStart"
  }
  assert {
    condition     = strcontains(output.units["10.0.0.2"], "\nUser=cairn\n") && strcontains(output.units["10.0.0.2"], "\nEnvironmentFile=/etc/cairn/cairn.env\n") && strcontains(output.units["10.0.0.2"], "\nRequiresMountsFor=/var/lib/cairn/d4\n")
    error_message = "unit user, env file and mounts"
  }
  assert {
    condition     = output.nodes["10.0.0.3"].drive_dirs == ["/var/lib/cairn/d1", "/var/lib/cairn/d2", "/var/lib/cairn/d3", "/var/lib/cairn/d4"]
    error_message = "drive dirs"
  }
  assert {
    condition     = output.env_file == "CAIRN_ROOT_PASSWORD=\"render-test-secret\"\nCAIRN_ROOT_USER=\"admin\"\n"
    error_message = "env file without KMS"
  }
}

run "single_node_plain_paths" {
  command = plan
  variables {
    pools = [{ hosts = ["10.0.0.1"], drives_per_node = 6 }]
  }
  assert {
    condition     = output.pool_args == ["/var/lib/cairn/d{1...6}"] && output.set_sizes == [6]
    error_message = "a single node runs plain paths: ${jsonencode(output.pool_args)}"
  }
}

run "second_pool_is_another_argument" {
  command = plan
  variables {
    pools = [
      { hosts = ["a", "b"], drives_per_node = 2 },
      { hosts = ["c", "d", "e"], drives_per_node = 6 },
    ]
  }
  assert {
    condition     = output.pool_args == ["http://a:9000/var/lib/cairn/d{1...2},http://b:9000/var/lib/cairn/d{1...2}", "http://c:9000/var/lib/cairn/pool2/d{1...6},http://d:9000/var/lib/cairn/pool2/d{1...6},http://e:9000/var/lib/cairn/pool2/d{1...6}"]
    error_message = "pools: ${jsonencode(output.pool_args)}"
  }
  assert {
    condition     = output.set_sizes == [4, 9] && output.hosts == tolist(["a", "b", "c", "d", "e"])
    error_message = "4 drives: a set of 4; 18 drives: sets of 9"
  }
  assert {
    condition     = length(output.nodes["d"].args) == 5 && output.nodes["d"].args[4] == output.pool_args[1]
    error_message = "every node gets every pool"
  }
}

run "quoting" {
  command = plan
  variables {
    pools         = [{ hosts = ["h1", "h2"], drives_per_node = 1 }]
    root_password = "pa\"ss\\wo$rd'%"
    extra_args    = ["--domain", "s3.example.com,100%$HOME\"x"]
  }
  assert {
    condition     = strcontains(output.units["h1"], "\"--domain\" \"s3.example.com,100%%$$HOME\\\"x\"")
    error_message = "systemd quoting doubles % and $ and escapes quotes"
  }
  assert {
    condition     = strcontains(output.nodes["h1"].command, "'--domain' 's3.example.com,100%$HOME\"x'")
    error_message = "shell quoting"
  }
  assert {
    condition     = strcontains(output.env_file, "CAIRN_ROOT_PASSWORD=\"pa\\\"ss\\\\wo$rd'%\"\n")
    error_message = "env file escapes quotes and backslashes"
  }
}

run "tls_builtin_kms_prefix" {
  command = plan
  variables {
    pools          = [{ hosts = ["127.0.0.2", "127.0.0.3"], drives_per_node = 2 }]
    tls            = true
    metrics_public = true
    host_prefix    = { "127.0.0.2" = "/srv/h2", "127.0.0.3" = "/srv/h3" }
    kms            = { backend = "builtin", master_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", key = "objects" }
  }
  assert {
    condition     = output.pool_args == ["https://127.0.0.2:9000/srv/h2/var/lib/cairn/d{1...2},https://127.0.0.3:9000/srv/h3/var/lib/cairn/d{1...2}"]
    error_message = "TLS endpoints with per-host prefixes: ${jsonencode(output.pool_args)}"
  }
  assert {
    condition     = output.nodes["127.0.0.3"].args == ["server", "--address", "127.0.0.3:9000", "--certs-dir", "/srv/h3/etc/cairn/certs", "--metrics-public", output.pool_args[0]]
    error_message = "args: ${jsonencode(output.nodes["127.0.0.3"].args)}"
  }
  assert {
    condition     = strcontains(output.env_file, "CAIRN_KMS_BACKEND=\"builtin\"\n") && strcontains(output.env_file, "CAIRN_KMS_KEYS=\"objects\"\n") && strcontains(output.env_file, "CAIRN_KMS_MASTER_KEY=\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"\n")
    error_message = "builtin KMS settings"
  }
}

run "cloud_init" {
  command = plan
  variables {
    pools         = [{ hosts = ["10.0.0.1", "10.0.0.2"], drives_per_node = 2 }]
    binary_url    = "https://downloads.example.com/cairn"
    binary_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    disks         = { "10.0.0.2" = ["/dev/sdb", "/dev/sdc"] }
  }
  assert {
    condition     = [for f in yamldecode(output.cloud_init["10.0.0.2"]).write_files : "${f.path} ${f.permissions}"] == ["/etc/cairn/cairn.env 0600", "/etc/systemd/system/cairn.service 0644", "/usr/local/lib/cairn/install.sh 0755"]
    error_message = "write_files"
  }
  assert {
    condition     = base64decode(yamldecode(output.cloud_init["10.0.0.2"]).write_files[1].content) == output.units["10.0.0.2"] && base64decode(yamldecode(output.cloud_init["10.0.0.2"]).write_files[2].content) == file("${path.module}/install.sh")
    error_message = "unit and install.sh travel unchanged"
  }
  assert {
    condition     = contains(yamldecode(output.cloud_init["10.0.0.2"]).runcmd[0], "CAIRN_DISKS=/dev/sdb=/var/lib/cairn/d1 /dev/sdc=/var/lib/cairn/d2") && contains(yamldecode(output.cloud_init["10.0.0.2"]).runcmd[0], "CAIRN_START=systemd") && contains(yamldecode(output.cloud_init["10.0.0.2"]).runcmd[0], "CAIRN_BINARY_SHA256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    error_message = "runcmd must set the disks, the systemd start and the checksum"
  }
  assert {
    condition     = contains(yamldecode(output.cloud_init["10.0.0.1"]).runcmd[0], "CAIRN_DISKS=")
    error_message = "a host without disks keeps directories"
  }
}

run "windows_launcher" {
  command = plan
  variables {
    pools    = [{ hosts = ["10.0.0.2"], drives_per_node = 2 }]
    data_dir = "C:/cairn"
  }
  assert {
    condition     = strcontains(output.windows_service["10.0.0.2"], "& 'C:\\Program Files\\Cairn\\cairn.exe' 'server' '--address' '10.0.0.2:9000' 'C:/cairn/d{1...2}'")
    error_message = "the launcher runs the node's arguments: one node, plain drive paths"
  }
  assert {
    condition     = strcontains(output.windows_service["10.0.0.2"], "New-Item -ItemType Directory -Force -Path 'C:/cairn/d2'") && strcontains(output.windows_service["10.0.0.2"], "$env:CAIRN_ROOT_USER = 'admin'") && strcontains(output.windows_service["10.0.0.2"], "Register-ScheduledTask -TaskName 'Cairn'")
    error_message = "the launcher makes the drives, sets the environment and registers the task"
  }
}

run "windows_cluster_refused" {
  command = plan
  variables {
    pools    = [{ hosts = ["10.0.0.1", "10.0.0.2"], drives_per_node = 2 }]
    data_dir = "C:/cairn"
  }
  expect_failures = [var.data_dir]
}

run "seventeen_drives" {
  command = plan
  variables {
    pools = [{ hosts = ["a"], drives_per_node = 17 }]
  }
  expect_failures = [var.pools]
}

run "duplicate_host" {
  command = plan
  variables {
    pools = [{ hosts = ["a", "a"], drives_per_node = 2 }]
  }
  expect_failures = [var.pools]
}

run "external_kms_needs_key" {
  command = plan
  variables {
    pools = [{ hosts = ["a"], drives_per_node = 2 }]
    kms   = { backend = "aws", aws_region = "eu-west-1" }
  }
  expect_failures = [var.kms]
}

run "builtin_kms_needs_master_key" {
  command = plan
  variables {
    pools = [{ hosts = ["a"], drives_per_node = 2 }]
    kms   = { backend = "builtin", master_key = "short" }
  }
  expect_failures = [var.kms]
}

run "dev_password_refused" {
  command = plan
  variables {
    pools         = [{ hosts = ["a"], drives_per_node = 2 }]
    root_password = "cairnadmin-dev-secret"
  }
  expect_failures = [var.root_password]
}
