# terraform test (offline: the module has no provider). Plans only.

variables {
  work_dir      = "/tmp/cairn-local-tftest"
  root_password = "tftest-root-secret"
  base_port     = 9100
}

run "three_by_two" {
  command = plan
  variables {
    node_count      = 3
    drives_per_node = 2
  }
  assert {
    condition     = output.pool == "http://127.0.0.1:9100/tmp/cairn-local-tftest/data/node1/d{1...2},http://127.0.0.1:9101/tmp/cairn-local-tftest/data/node2/d{1...2},http://127.0.0.1:9102/tmp/cairn-local-tftest/data/node3/d{1...2}"
    error_message = "unexpected pool: ${output.pool}"
  }
  assert {
    condition     = output.node_endpoints == tolist(["http://127.0.0.1:9100", "http://127.0.0.1:9101", "http://127.0.0.1:9102"])
    error_message = "unexpected node endpoints"
  }
  assert {
    condition     = output.endpoint == "http://127.0.0.1:9100" && output.metrics_url == "http://127.0.0.1:9100/metrics"
    error_message = "unexpected endpoint or metrics_url"
  }
}

run "single_node_plain_paths" {
  command = plan
  variables {
    node_count      = 1
    drives_per_node = 4
  }
  assert {
    condition     = output.pool == "/tmp/cairn-local-tftest/data/node1/d{1...4}"
    error_message = "unexpected pool: ${output.pool}"
  }
}

run "single_drive" {
  command = plan
  variables {
    node_count      = 1
    drives_per_node = 1
  }
  assert {
    condition     = output.pool == "/tmp/cairn-local-tftest/data/node1/d1"
    error_message = "unexpected pool: ${output.pool}"
  }
}

run "eighteen_drives_valid" {
  command = plan
  variables {
    node_count      = 6
    drives_per_node = 3
  }
}

run "zero_nodes" {
  command = plan
  variables {
    node_count = 0
  }
  expect_failures = [var.node_count]
}

run "zero_drives" {
  command = plan
  variables {
    drives_per_node = 0
  }
  expect_failures = [var.drives_per_node]
}

run "seventeen_drives_no_layout" {
  command = plan
  variables {
    node_count      = 17
    drives_per_node = 1
  }
  expect_failures = [var.drives_per_node]
}

run "thirty_four_drives_valid" {
  # 34 = 17 sets of 2
  command = plan
  variables {
    node_count      = 2
    drives_per_node = 17
  }
}

run "twenty_three_drives_no_layout" {
  command = plan
  variables {
    node_count      = 23
    drives_per_node = 1
  }
  expect_failures = [var.drives_per_node]
}

run "privileged_port" {
  command = plan
  variables {
    base_port = 80
  }
  expect_failures = [var.base_port]
}

run "ports_past_65535" {
  command = plan
  variables {
    base_port  = 65534
    node_count = 3
  }
  expect_failures = [var.base_port]
}

run "short_password" {
  command = plan
  variables {
    root_password = "short"
  }
  expect_failures = [var.root_password]
}

run "dev_user_refused" {
  command = plan
  variables {
    root_user = "cairnadmin"
  }
  expect_failures = [var.root_user]
}
