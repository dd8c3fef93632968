# terraform test (plan only; the module uses no provider). tests/deploy
# TestOnpremModule applies it for real over SSH.

variables {
  hosts         = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]
  ssh           = { user = "deploy", private_key_file = "tests/onprem.tftest.hcl" }
  binary_source = "main.tf" # any file: the plan only hashes it
  root_password = "onprem-test-secret"
}

run "four_hosts" {
  command = plan
  variables {
    drives_per_node = 4
  }
  assert {
    condition     = output.pool_args == ["http://10.0.0.1:9000/var/lib/cairn/d{1...4},http://10.0.0.2:9000/var/lib/cairn/d{1...4},http://10.0.0.3:9000/var/lib/cairn/d{1...4},http://10.0.0.4:9000/var/lib/cairn/d{1...4}"]
    error_message = "pool: ${jsonencode(output.pool_args)}"
  }
  assert {
    condition     = output.server_commands["10.0.0.4"] == "'/usr/local/bin/cairn' 'server' '--address' '10.0.0.4:9000' '${output.pool_args[0]}'"
    error_message = "node 4 command: ${output.server_commands["10.0.0.4"]}"
  }
  assert {
    condition     = length(terraform_data.host) == 4 && length(terraform_data.config) == 4 && length(terraform_data.binary) == 4
    error_message = "one host, binary and config resource per host"
  }
  assert {
    condition     = strcontains(terraform_data.host["10.0.0.2"].input.cleanup, "sudo -n sh -c 'systemctl is-active --quiet cairn.service'") && !strcontains(terraform_data.host["10.0.0.2"].input.cleanup, "rm -rf")
    error_message = "a non-root SSH user works through sudo; destroy keeps the data by default"
  }
  assert {
    condition     = output.metrics_url == "http://10.0.0.1:9000/metrics" && output.node_endpoints[3] == "http://10.0.0.4:9000"
    error_message = "metrics url and node endpoints"
  }
}

run "additional_pool_hook" {
  command = plan
  variables {
    drives_per_node  = 2
    additional_pools = [{ hosts = ["10.0.1.1", "10.0.1.2"], drives_per_node = 4 }]
  }
  assert {
    condition     = length(output.pool_args) == 2 && output.pool_args[1] == "http://10.0.1.1:9000/var/lib/cairn/pool2/d{1...4},http://10.0.1.2:9000/var/lib/cairn/pool2/d{1...4}" && length(terraform_data.host) == 6
    error_message = "a further pool is a further argument on every node"
  }
}

run "unit_run_and_destroy_data" {
  command = plan
  variables {
    drives_per_node = 1
    service_manager = "unit-run"
    destroy_data    = true
    ssh             = { user = "root", private_key_file = "tests/onprem.tftest.hcl" }
  }
  assert {
    condition     = startswith(terraform_data.host["10.0.0.1"].input.cleanup, "sh -c '/usr/local/lib/cairn/unit-run.sh status /etc/systemd/system/cairn.service >/dev/null'") && strcontains(terraform_data.host["10.0.0.1"].input.cleanup, "rm -rf /var/lib/cairn/d1")
    error_message = "cleanup: ${terraform_data.host["10.0.0.1"].input.cleanup}"
  }
}

run "seventeen_drives" {
  command = plan
  variables {
    drives_per_node = 17
    hosts           = ["10.0.0.1"]
  }
  expect_failures = [var.drives_per_node]
}

run "unknown_service_manager" {
  command = plan
  variables {
    service_manager = "openrc"
  }
  expect_failures = [var.service_manager]
}

run "missing_binary" {
  command = plan
  variables {
    binary_source = "no-such-cairn"
  }
  expect_failures = [var.binary_source]
}
