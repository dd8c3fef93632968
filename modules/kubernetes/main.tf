# Cairn on Kubernetes: a StatefulSet of replicas pods with drives_per_node
# PersistentVolumeClaims each, a headless Service for the pods' stable names
# (every pod's --address is <pod>.<name>-hl.<namespace>.svc.<domain>:<port>, the
# endpoints of the pool argument), a client Service, a Secret with the root
# credentials and KMS settings, a ServiceAccount, a PodDisruptionBudget and an
# optional ServiceMonitor.
#
# Every object is written here in the Kubernetes API's own form and applied with
# kubernetes_manifest (server-side apply), so what the module declares is what
# the API server receives: tests/deploy parses each object strictly into the
# k8s.io/api types. kubernetes_manifest needs the cluster's API at plan time.

locals {
  hl     = "${var.name}-hl"
  domain = "${local.hl}.${var.namespace}.svc.${var.cluster_domain}"
  hosts  = [for i in range(var.replicas) : "${var.name}-${i}.${local.domain}"]

  labels = {
    "app.kubernetes.io/name"       = "cairn"
    "app.kubernetes.io/instance"   = var.name
    "app.kubernetes.io/managed-by" = "terraform"
  }
  selector = {
    "app.kubernetes.io/name"     = "cairn"
    "app.kubernetes.io/instance" = var.name
  }
  meta = { namespace = var.namespace, labels = local.labels }

  namespace = {
    apiVersion = "v1"
    kind       = "Namespace"
    metadata   = { name = var.namespace, labels = local.labels }
  }

  secret = {
    apiVersion = "v1"
    kind       = "Secret"
    metadata   = merge(local.meta, { name = "${var.name}-env" })
    type       = "Opaque"
    stringData = module.render.environment
  }

  service_account = {
    apiVersion                   = "v1"
    kind                         = "ServiceAccount"
    metadata                     = merge(local.meta, { name = var.name, annotations = var.service_account_annotations })
    automountServiceAccountToken = length(var.service_account_annotations) > 0
  }

  # The ServiceMonitor selects the client Service only (by component), so every
  # pod is scraped once.
  headless = {
    apiVersion = "v1"
    kind       = "Service"
    metadata   = merge(local.meta, { name = local.hl, labels = merge(local.labels, { "app.kubernetes.io/component" = "peers" }) })
    spec = {
      clusterIP = "None"
      # Pods resolve each other before they are ready: a fresh cluster formats
      # only when every pod is up.
      publishNotReadyAddresses = true
      selector                 = local.selector
      ports                    = [{ name = "s3", port = var.port, targetPort = "s3", protocol = "TCP" }]
    }
  }

  client = {
    apiVersion = "v1"
    kind       = "Service"
    metadata   = merge(local.meta, { name = var.name, annotations = var.service_annotations, labels = merge(local.labels, { "app.kubernetes.io/component" = "api" }) })
    spec = {
      type     = var.service_type
      selector = local.selector
      ports    = [{ name = "s3", port = var.port, targetPort = "s3", protocol = "TCP" }]
    }
  }

  statefulset = {
    apiVersion = "apps/v1"
    kind       = "StatefulSet"
    metadata   = merge(local.meta, { name = var.name })
    spec = {
      serviceName = local.hl
      replicas    = var.replicas
      # All pods start together (the cluster formats when all drives answer);
      # updates still roll one pod at a time, each waited for until ready.
      podManagementPolicy = "Parallel"
      updateStrategy      = { type = "RollingUpdate", rollingUpdate = { partition = 0 } }
      selector            = { matchLabels = local.selector }
      template = {
        metadata = {
          labels = merge(local.labels, var.pod_labels)
          # A changed Secret rolls the pods.
          annotations = { "cairn.io/config-sha256" = sha256(jsonencode(module.render.environment)) }
        }
        spec = {
          serviceAccountName            = var.name
          terminationGracePeriodSeconds = 30
          securityContext = {
            runAsNonRoot        = true
            runAsUser           = 65532
            runAsGroup          = 65532
            fsGroup             = 65532
            fsGroupChangePolicy = "OnRootMismatch"
            seccompProfile      = { type = "RuntimeDefault" }
          }
          topologySpreadConstraints = [
            { maxSkew = 1, topologyKey = "topology.kubernetes.io/zone", whenUnsatisfiable = "ScheduleAnyway", labelSelector = { matchLabels = local.selector } },
            { maxSkew = 1, topologyKey = "kubernetes.io/hostname", whenUnsatisfiable = "ScheduleAnyway", labelSelector = { matchLabels = local.selector } },
          ]
          containers = [{
            name            = "cairn"
            image           = var.image
            imagePullPolicy = var.image_pull_policy
            args = concat(
              ["server", "--address", "$(POD_NAME).${local.domain}:${var.port}"],
              var.metrics_public ? ["--metrics-public"] : [],
              var.extra_args,
              module.render.pool_args,
            )
            env     = [{ name = "POD_NAME", valueFrom = { fieldRef = { fieldPath = "metadata.name" } } }]
            envFrom = [{ secretRef = { name = "${var.name}-env" } }]
            ports   = [{ name = "s3", containerPort = var.port, protocol = "TCP" }]
            readinessProbe = {
              httpGet          = { path = "/cairn/health/ready", port = "s3" }
              periodSeconds    = 5
              failureThreshold = 3
            }
            livenessProbe = {
              httpGet             = { path = "/cairn/health/live", port = "s3" }
              initialDelaySeconds = 10
              periodSeconds       = 10
              failureThreshold    = 6
            }
            resources = { requests = var.resources.requests, limits = var.resources.limits }
            securityContext = {
              allowPrivilegeEscalation = false
              readOnlyRootFilesystem   = true
              capabilities             = { drop = ["ALL"] }
            }
            volumeMounts = concat(
              [for j in range(var.drives_per_node) : { name = "data${j + 1}", mountPath = "/data/d${j + 1}" }],
              [{ name = "tmp", mountPath = "/tmp" }], # the root filesystem is read-only
            )
          }]
          volumes = [{ name = "tmp", emptyDir = {} }]
        }
      }
      volumeClaimTemplates = [for j in range(var.drives_per_node) : {
        metadata = { name = "data${j + 1}", labels = local.labels }
        spec = merge(
          {
            accessModes = ["ReadWriteOnce"]
            resources   = { requests = { storage = var.storage_size } }
          },
          var.storage_class == "" ? {} : { storageClassName = var.storage_class },
        )
      }]
    }
  }

  pdb = {
    apiVersion = "policy/v1"
    kind       = "PodDisruptionBudget"
    metadata   = merge(local.meta, { name = var.name })
    spec = {
      maxUnavailable = var.max_unavailable
      selector       = { matchLabels = local.selector }
    }
  }

  service_monitor = {
    apiVersion = "monitoring.coreos.com/v1"
    kind       = "ServiceMonitor"
    metadata   = merge(local.meta, { name = var.name, labels = merge(local.labels, var.service_monitor_labels) })
    spec = {
      selector          = { matchLabels = merge(local.selector, { "app.kubernetes.io/component" = "api" }) }
      namespaceSelector = { matchNames = [var.namespace] }
      endpoints = [merge(
        { port = "s3", path = "/metrics", interval = "30s", scheme = "http" },
        var.metrics_public || var.metrics_token_secret == null ? {} : {
          authorization = { type = "Bearer", credentials = { name = var.metrics_token_secret.name, key = var.metrics_token_secret.key } }
        },
      )]
    }
  }

  # Applied in this order (namespace first); keys are kind/name.
  objects = merge(
    var.create_namespace ? { "Namespace/${var.namespace}" = local.namespace } : {},
    {
      "Secret/${var.name}-env"          = local.secret
      "ServiceAccount/${var.name}"      = local.service_account
      "Service/${local.hl}"             = local.headless
      "Service/${var.name}"             = local.client
      "StatefulSet/${var.name}"         = local.statefulset
      "PodDisruptionBudget/${var.name}" = local.pdb
    },
    var.service_monitor ? { "ServiceMonitor/${var.name}" = local.service_monitor } : {},
  )
}

module "render" {
  source = "../../scripts/render"

  pools          = [{ hosts = local.hosts, drives_per_node = var.drives_per_node }]
  port           = var.port
  data_dir       = "/data"
  root_user      = var.root_user
  root_password  = var.root_password
  kms            = var.kms
  extra_args     = var.extra_args
  metrics_public = var.metrics_public
}

resource "kubernetes_manifest" "namespace" {
  count    = var.create_namespace ? 1 : 0
  manifest = local.namespace
}

resource "kubernetes_manifest" "object" {
  for_each   = { for k, v in local.objects : k => v if k != "Namespace/${var.namespace}" }
  manifest   = each.value
  depends_on = [kubernetes_manifest.namespace]
}
