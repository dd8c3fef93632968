# terraform test with a mocked google provider (schema from tests/deploy/standin).

mock_provider "google" {
  mock_data "google_compute_subnetwork" {
    defaults = { ip_cidr_range = "10.2.0.0/20" }
  }
  override_resource {
    target = google_service_account.node
    values = { email = "tst-node@proj.iam.gserviceaccount.com" }
  }
  override_resource {
    target = google_kms_key_ring.sse
    values = { id = "projects/proj/locations/europe-west1/keyRings/tst-sse" }
  }
  override_resource {
    target = google_kms_crypto_key.sse
    values = { id = "projects/proj/locations/europe-west1/keyRings/tst-sse/cryptoKeys/cairn-sse" }
  }
}

variables {
  name          = "tst"
  project       = "proj"
  region        = "europe-west1"
  zones         = ["europe-west1-b", "europe-west1-c", "europe-west1-d"]
  network       = "default"
  subnetwork    = "https://www.googleapis.com/compute/v1/projects/proj/regions/europe-west1/subnetworks/cairn"
  root_password = "gcp-test-secret"
  binary_url    = "https://downloads.example.com/cairn-linux-amd64"
  binary_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
}

run "six_instances_over_three_zones" {
  command = apply
  variables {
    node_count      = 6
    drives_per_node = 2
  }

  assert {
    condition     = [for i in google_compute_instance.node : i.zone] == ["europe-west1-b", "europe-west1-c", "europe-west1-d", "europe-west1-b", "europe-west1-c", "europe-west1-d"]
    error_message = "instances not spread over the zones"
  }
  assert {
    condition     = [for i in google_compute_instance.node : i.network_interface[0].network_ip] == ["10.2.0.10", "10.2.0.11", "10.2.0.12", "10.2.0.13", "10.2.0.14", "10.2.0.15"]
    error_message = "static internal addresses"
  }
  assert {
    condition     = length(google_compute_disk.drive) == 12 && alltrue([for k, d in google_compute_disk.drive : d.zone == google_compute_instance.node[tonumber(split("-", k)[0])].zone])
    error_message = "12 disks, each in its instance's zone"
  }
  assert {
    condition     = [for a in google_compute_instance.node[4].attached_disk : a.device_name] == ["cairn-d1", "cairn-d2"] && google_compute_instance.node[4].attached_disk[1].source == google_compute_disk.drive["4-1"].self_link
    error_message = "instance 5 attaches its own two disks by device name"
  }
  assert {
    condition     = output.set_sizes == [12] && length(split(",", output.pool_args[0])) == 6
    error_message = "12 drives over 6 nodes: one set of 12"
  }

  # Service account and Cloud KMS.
  assert {
    condition     = alltrue([for i in google_compute_instance.node : i.service_account[0].email == "tst-node@proj.iam.gserviceaccount.com"])
    error_message = "instances run as the node service account"
  }
  assert {
    condition     = toset([for m in google_kms_crypto_key_iam_member.node : m.role]) == toset(["roles/cloudkms.cryptoKeyEncrypterDecrypter", "roles/cloudkms.viewer"]) && alltrue([for m in google_kms_crypto_key_iam_member.node : m.member == "serviceAccount:tst-node@proj.iam.gserviceaccount.com" && m.crypto_key_id == "projects/proj/locations/europe-west1/keyRings/tst-sse/cryptoKeys/cairn-sse"])
    error_message = "the service account may encrypt/decrypt with (and view) the cluster's key only"
  }
  assert {
    condition     = google_kms_crypto_key.sse[0].purpose == "ENCRYPT_DECRYPT" && google_kms_crypto_key.sse[0].rotation_period == "7776000s" && google_kms_key_ring.sse[0].location == "europe-west1"
    error_message = "symmetric key, 90-day rotation, key ring in the region"
  }
  assert {
    condition = alltrue([for s in [
      "CAIRN_KMS_BACKEND=\"gcp\"",
      "CAIRN_KMS_GCP_KEYRING=\"projects/proj/locations/europe-west1/keyRings/tst-sse\"",
      "CAIRN_KMS_DEFAULT_KEY=\"cairn-sse\"",
    ] : strcontains(base64decode(yamldecode(output.cloud_init["10.2.0.11"]).write_files[0].content), s)])
    error_message = "env file must select Cloud KMS with the cluster's key ring and key"
  }
  assert {
    condition     = !strcontains(base64decode(yamldecode(output.cloud_init["10.2.0.11"]).write_files[0].content), "CAIRN_KMS_GCP_CREDENTIALS")
    error_message = "no key file: the service account is the credential"
  }
  assert {
    condition     = google_compute_instance.node[1].metadata["user-data"] == output.cloud_init["10.2.0.11"] && strcontains(jsonencode(yamldecode(output.cloud_init["10.2.0.11"]).runcmd), "CAIRN_DISKS=/dev/disk/by-id/google-cairn-d1=/var/lib/cairn/d1 /dev/disk/by-id/google-cairn-d2=/var/lib/cairn/d2")
    error_message = "instance 2 boots with its cloud-init, mounting its disks by device name"
  }

  # Load balancer and firewall.
  assert {
    condition     = length(google_compute_instance_group.zone) == 3 && length(google_compute_instance_group.zone["europe-west1-c"].instances) == 2 && length(google_compute_region_backend_service.s3.backend) == 3
    error_message = "one instance group per zone, all behind the backend service"
  }
  assert {
    condition     = google_compute_region_health_check.ready.http_health_check[0].request_path == "/cairn/health/ready" && google_compute_forwarding_rule.s3.load_balancing_scheme == "INTERNAL" && google_compute_forwarding_rule.s3.ports == tolist(["9000"])
    error_message = "internal TCP load balancer with a readiness health check"
  }
  assert {
    condition     = contains(google_compute_firewall.s3.source_ranges, "35.191.0.0/16") && contains(google_compute_firewall.s3.source_ranges, "10.2.0.0/20") && google_compute_firewall.s3.allow[0].ports == tolist(["9000"])
    error_message = "firewall admits the subnetwork and the health checkers on the port"
  }
}

run "existing_key" {
  command = apply
  variables {
    node_count      = 2
    drives_per_node = 2
    kms             = { create = false, crypto_key_id = "projects/sec/locations/global/keyRings/shared/cryptoKeys/objects" }
  }
  assert {
    condition     = length(google_kms_key_ring.sse) == 0 && length(google_kms_crypto_key.sse) == 0 && alltrue([for m in google_kms_crypto_key_iam_member.node : m.crypto_key_id == "projects/sec/locations/global/keyRings/shared/cryptoKeys/objects"])
    error_message = "existing key: nothing created, access granted on it"
  }
  assert {
    condition     = strcontains(base64decode(yamldecode(output.cloud_init["10.2.0.10"]).write_files[0].content), "CAIRN_KMS_GCP_KEYRING=\"projects/sec/locations/global/keyRings/shared\"") && strcontains(base64decode(yamldecode(output.cloud_init["10.2.0.10"]).write_files[0].content), "CAIRN_KMS_DEFAULT_KEY=\"objects\"")
    error_message = "key ring and key name split from crypto_key_id"
  }
}

run "missing_key" {
  command = plan
  variables {
    kms = { create = false }
  }
  expect_failures = [var.kms]
}

run "twenty_three_drives" {
  command = plan
  variables {
    node_count      = 23
    drives_per_node = 1
  }
  expect_failures = [var.drives_per_node]
}
