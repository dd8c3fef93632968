# Cairn on Compute Engine: node_count instances spread over zones,
# drives_per_node persistent disks each (separate resources: replacing an
# instance keeps its data), an internal passthrough TCP load balancer, a firewall
# rule, a service account allowed to use one Cloud KMS key for SSE-KMS, and
# cloud-init from the shared renderer (scripts/render).

data "google_compute_subnetwork" "this" {
  self_link = var.subnetwork
}

locals {
  nodes = [for i in range(var.node_count) : {
    index = i
    name  = "${var.name}-${i + 1}"
    zone  = var.zones[i % length(var.zones)]
    ip    = cidrhost(data.google_compute_subnetwork.this.ip_cidr_range, var.ip_offset + i)
  }]

  drives = flatten([for n in local.nodes : [for j in range(var.drives_per_node) : {
    key    = "${n.index}-${j}"
    node   = n.index
    drive  = j
    zone   = n.zone
    device = "cairn-d${j + 1}"
  }]])

  crypto_key_id = var.kms.create ? google_kms_crypto_key.sse[0].id : var.kms.crypto_key_id
  key_ring_id   = var.kms.create ? google_kms_key_ring.sse[0].id : split("/cryptoKeys/", var.kms.crypto_key_id)[0]
  key_name      = var.kms.create ? var.kms.key_name : split("/cryptoKeys/", var.kms.crypto_key_id)[1]

  labels = merge({ cairn-cluster = var.name }, var.labels)
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
    backend      = "gcp"
    key          = local.key_name
    gcp_key_ring = local.key_ring_id
  }
  # Persistent disks by device name (Google's udev rules).
  disks = { for n in local.nodes : n.ip => [for j in range(var.drives_per_node) : "/dev/disk/by-id/google-cairn-d${j + 1}"] }
}

# --- Identity and Cloud KMS.

resource "google_service_account" "node" {
  project      = var.project
  account_id   = "${var.name}-node"
  display_name = "Cairn ${var.name} nodes"
}

resource "google_kms_key_ring" "sse" {
  count    = var.kms.create ? 1 : 0
  project  = var.project
  name     = "${var.name}-sse"
  location = var.region
}

resource "google_kms_crypto_key" "sse" {
  count           = var.kms.create ? 1 : 0
  name            = var.kms.key_name
  key_ring        = google_kms_key_ring.sse[0].id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = "7776000s"
  labels          = local.labels
}

# What server/internal/kms's GCP backend calls: Encrypt, Decrypt (data keys) and
# GetCryptoKey (key status).
resource "google_kms_crypto_key_iam_member" "node" {
  for_each      = toset(["roles/cloudkms.cryptoKeyEncrypterDecrypter", "roles/cloudkms.viewer"])
  crypto_key_id = local.crypto_key_id
  role          = each.value
  member        = "serviceAccount:${google_service_account.node.email}"
}

# --- Network.

resource "google_compute_firewall" "s3" {
  project                 = var.project
  name                    = "${var.name}-s3"
  network                 = var.network
  direction               = "INGRESS"
  target_service_accounts = [google_service_account.node.email]
  # The subnetwork (peers, clients), Google's health checkers, allowed_cidrs.
  source_ranges = distinct(concat([data.google_compute_subnetwork.this.ip_cidr_range, "35.191.0.0/16", "130.211.0.0/22"], var.allowed_cidrs))

  allow {
    protocol = "tcp"
    ports    = [tostring(var.port)]
  }
}

# --- Disks and instances.

resource "google_compute_disk" "drive" {
  for_each = { for d in local.drives : d.key => d }
  project  = var.project
  name     = "${local.nodes[each.value.node].name}-d${each.value.drive + 1}"
  zone     = each.value.zone
  type     = var.disk_type
  size     = var.disk_size_gb
  labels   = local.labels
}

resource "google_compute_instance" "node" {
  count                     = var.node_count
  project                   = var.project
  name                      = local.nodes[count.index].name
  zone                      = local.nodes[count.index].zone
  machine_type              = var.machine_type
  allow_stopping_for_update = true
  labels                    = local.labels

  boot_disk {
    initialize_params {
      image = var.image
      size  = 20
    }
  }

  dynamic "attached_disk" {
    for_each = range(var.drives_per_node)
    content {
      source      = google_compute_disk.drive["${count.index}-${attached_disk.value}"].self_link
      device_name = "cairn-d${attached_disk.value + 1}"
    }
  }

  network_interface {
    subnetwork = var.subnetwork
    network_ip = local.nodes[count.index].ip
  }

  service_account {
    email  = google_service_account.node.email
    scopes = ["cloud-platform"]
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  metadata = {
    user-data = module.render.cloud_init[local.nodes[count.index].ip]
  }

  # Configuration changes are rolled out by replacing instances one at a time
  # (terraform apply -replace=…); the persistent disks are kept and re-mounted.
  lifecycle {
    ignore_changes = [metadata]
  }

  depends_on = [google_kms_crypto_key_iam_member.node]
}

# --- Internal passthrough load balancer: one unmanaged group per zone.

resource "google_compute_instance_group" "zone" {
  for_each  = toset(distinct([for n in local.nodes : n.zone]))
  project   = var.project
  name      = "${var.name}-${each.value}"
  zone      = each.value
  instances = [for n in local.nodes : google_compute_instance.node[n.index].self_link if n.zone == each.value]

  named_port {
    name = "s3"
    port = var.port
  }
}

resource "google_compute_region_health_check" "ready" {
  project            = var.project
  name               = "${var.name}-ready"
  region             = var.region
  check_interval_sec = 5
  timeout_sec        = 3

  http_health_check {
    port         = var.port
    request_path = "/cairn/health/ready"
  }
}

resource "google_compute_region_backend_service" "s3" {
  project               = var.project
  name                  = "${var.name}-s3"
  region                = var.region
  protocol              = "TCP"
  load_balancing_scheme = "INTERNAL"
  health_checks         = [google_compute_region_health_check.ready.id]

  dynamic "backend" {
    for_each = google_compute_instance_group.zone
    content {
      group          = backend.value.self_link
      balancing_mode = "CONNECTION"
    }
  }
}

resource "google_compute_forwarding_rule" "s3" {
  project               = var.project
  name                  = "${var.name}-s3"
  region                = var.region
  load_balancing_scheme = "INTERNAL"
  ip_protocol           = "TCP"
  ports                 = [tostring(var.port)]
  network               = var.network
  subnetwork            = var.subnetwork
  backend_service       = google_compute_region_backend_service.s3.id
  labels                = local.labels
}
