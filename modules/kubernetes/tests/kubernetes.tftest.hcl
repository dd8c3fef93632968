# terraform test with a mocked kubernetes provider (schema from tests/deploy/standin).
# tests/deploy TestKubernetesManifests parses every object strictly into the
# k8s.io/api types; here: the module's logic.

mock_provider "kubernetes" {}

variables {
  name          = "cairn"
  namespace     = "storage"
  image         = "registry.example.com/cairn:1.0.0"
  root_password = "k8s-test-secret"
}

run "four_pods_four_claims" {
  command = apply
  variables {
    replicas        = 4
    drives_per_node = 4
    storage_class   = "fast-ssd"
  }

  assert {
    condition     = output.pool_args == ["http://cairn-0.cairn-hl.storage.svc.cluster.local:9000/data/d{1...4},http://cairn-1.cairn-hl.storage.svc.cluster.local:9000/data/d{1...4},http://cairn-2.cairn-hl.storage.svc.cluster.local:9000/data/d{1...4},http://cairn-3.cairn-hl.storage.svc.cluster.local:9000/data/d{1...4}"] && output.set_sizes == [16]
    error_message = "pool: ${jsonencode(output.pool_args)}"
  }
  assert {
    condition     = kubernetes_manifest.object["StatefulSet/cairn"].manifest.spec.template.spec.containers[0].args == ["server", "--address", "$(POD_NAME).cairn-hl.storage.svc.cluster.local:9000", output.pool_args[0]]
    error_message = "each pod listens on its own headless name and runs the pool"
  }
  assert {
    condition     = [for c in kubernetes_manifest.object["StatefulSet/cairn"].manifest.spec.volumeClaimTemplates : c.metadata.name] == ["data1", "data2", "data3", "data4"] && alltrue([for c in kubernetes_manifest.object["StatefulSet/cairn"].manifest.spec.volumeClaimTemplates : c.spec.storageClassName == "fast-ssd" && c.spec.resources.requests.storage == "100Gi"])
    error_message = "four claims per pod in the storage class"
  }
  assert {
    condition     = [for m in kubernetes_manifest.object["StatefulSet/cairn"].manifest.spec.template.spec.containers[0].volumeMounts : m.mountPath] == ["/data/d1", "/data/d2", "/data/d3", "/data/d4", "/tmp"]
    error_message = "claims mounted at the pool's drive paths"
  }
  assert {
    condition     = kubernetes_manifest.object["StatefulSet/cairn"].manifest.spec.podManagementPolicy == "Parallel" && kubernetes_manifest.object["StatefulSet/cairn"].manifest.spec.serviceName == "cairn-hl" && kubernetes_manifest.object["StatefulSet/cairn"].manifest.spec.replicas == 4
    error_message = "parallel start, governed by the headless service"
  }
  assert {
    condition     = kubernetes_manifest.object["Service/cairn-hl"].manifest.spec.clusterIP == "None" && kubernetes_manifest.object["Service/cairn-hl"].manifest.spec.publishNotReadyAddresses
    error_message = "headless service publishing not-ready pods"
  }
  assert {
    condition     = kubernetes_manifest.object["Secret/cairn-env"].manifest.stringData.CAIRN_ROOT_PASSWORD == "k8s-test-secret" && kubernetes_manifest.object["StatefulSet/cairn"].manifest.spec.template.spec.containers[0].envFrom[0].secretRef.name == "cairn-env"
    error_message = "root credentials from the Secret"
  }
  assert {
    condition     = kubernetes_manifest.object["PodDisruptionBudget/cairn"].manifest.spec.maxUnavailable == 1 && kubernetes_manifest.object["PodDisruptionBudget/cairn"].manifest.spec.selector.matchLabels == kubernetes_manifest.object["StatefulSet/cairn"].manifest.spec.selector.matchLabels
    error_message = "PDB over the StatefulSet's pods"
  }
  assert {
    condition     = length(kubernetes_manifest.namespace) == 1 && !contains(keys(kubernetes_manifest.object), "ServiceMonitor/cairn")
    error_message = "namespace created; no ServiceMonitor unless asked"
  }
  assert {
    condition     = output.endpoint == "http://cairn.storage.svc.cluster.local:9000"
    error_message = "endpoint is the client service"
  }
}

run "service_monitor_and_builtin_kms" {
  command = apply
  variables {
    replicas             = 3
    drives_per_node      = 2
    create_namespace     = false
    service_monitor      = true
    metrics_token_secret = { name = "cairn-metrics", key = "token" }
    kms                  = { backend = "builtin", master_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", key = "objects" }
  }
  assert {
    condition     = kubernetes_manifest.object["ServiceMonitor/cairn"].manifest.spec.endpoints[0].authorization.credentials.name == "cairn-metrics" && kubernetes_manifest.object["ServiceMonitor/cairn"].manifest.spec.endpoints[0].path == "/metrics"
    error_message = "ServiceMonitor scrapes /metrics with the token"
  }
  assert {
    condition     = kubernetes_manifest.object["Secret/cairn-env"].manifest.stringData.CAIRN_KMS_BACKEND == "builtin" && kubernetes_manifest.object["Secret/cairn-env"].manifest.stringData.CAIRN_KMS_DEFAULT_KEY == "objects"
    error_message = "KMS settings in the Secret"
  }
  assert {
    condition     = length(kubernetes_manifest.namespace) == 0 && output.set_sizes == [6]
    error_message = "existing namespace; 6 drives make one set of 6"
  }
}

run "monitor_without_token" {
  command = plan
  variables {
    service_monitor = true
  }
  expect_failures = [var.metrics_token_secret]
}

run "seventeen_drives" {
  command = plan
  variables {
    replicas        = 17
    drives_per_node = 1
  }
  expect_failures = [var.drives_per_node]
}

run "pdb_takes_every_pod" {
  command = plan
  variables {
    replicas        = 2
    drives_per_node = 2
    max_unavailable = 2
  }
  expect_failures = [var.max_unavailable]
}

run "bad_storage_size" {
  command = plan
  variables {
    storage_size = "lots"
  }
  expect_failures = [var.storage_size]
}
