variable "name" {
  description = "Name of the StatefulSet, its Services, Secret, ServiceAccount and PodDisruptionBudget (pods are <name>-0 … <name>-N-1)."
  type        = string
  default     = "cairn"

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$", var.name))
    error_message = "name must be a DNS label of at most 40 characters (lowercase letters, digits, hyphens)."
  }
}

variable "namespace" {
  description = "Namespace of every object."
  type        = string
  default     = "cairn"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label."
  }
}

variable "create_namespace" {
  description = "Create the namespace (false: it exists)."
  type        = bool
  default     = true
}

variable "replicas" {
  description = "Pods of the StatefulSet, one Cairn node each."
  type        = number
  default     = 4

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 64 && floor(var.replicas) == var.replicas
    error_message = "replicas must be a whole number from 1 to 64."
  }
}

variable "drives_per_node" {
  description = "PersistentVolumeClaims per pod (volumeClaimTemplates data1…dataN, mounted at /data/d1…dN). replicas × drives_per_node must divide into equal erasure sets of 2–16 drives."
  type        = number
  default     = 4

  validation {
    condition     = var.drives_per_node >= 1 && var.drives_per_node <= 32 && floor(var.drives_per_node) == var.drives_per_node
    error_message = "drives_per_node must be a whole number from 1 to 32."
  }
  validation {
    condition = (
      var.replicas * var.drives_per_node == 1 ||
      anytrue([for s in range(2, 17) : (var.replicas * var.drives_per_node) % s == 0])
    )
    error_message = "replicas × drives_per_node is not a valid erasure layout: the drive count must divide into equal sets of 2–16 drives (e.g. 4 × 4 = 16, 3 × 2 = 6; not 17, 19 or 23), or be a single drive."
  }
}

variable "storage_size" {
  description = "Size of each PersistentVolumeClaim (a Kubernetes quantity)."
  type        = string
  default     = "100Gi"

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$", var.storage_size))
    error_message = "storage_size must be a Kubernetes quantity such as 100Gi."
  }
}

variable "storage_class" {
  description = "StorageClass of the claims; empty: the cluster's default."
  type        = string
  default     = ""
}

variable "image" {
  description = "Container image of cairn (the repository's Dockerfile: static binary on a distroless base, user 65532)."
  type        = string

  validation {
    condition     = length(trimspace(var.image)) > 0
    error_message = "image must name the cairn container image."
  }
}

variable "image_pull_policy" {
  description = "imagePullPolicy of the container."
  type        = string
  default     = "IfNotPresent"

  validation {
    condition     = contains(["Always", "IfNotPresent", "Never"], var.image_pull_policy)
    error_message = "image_pull_policy must be Always, IfNotPresent or Never."
  }
}

variable "port" {
  description = "Container and Service port (S3, admin, metrics, node-to-node RPC)."
  type        = number
  default     = 9000
}

variable "cluster_domain" {
  description = "The cluster's DNS domain (pod addresses are <pod>.<name>-hl.<namespace>.svc.<cluster_domain>)."
  type        = string
  default     = "cluster.local"
}

variable "service_type" {
  description = "Type of the client Service <name>: ClusterIP, NodePort or LoadBalancer."
  type        = string
  default     = "ClusterIP"

  validation {
    condition     = contains(["ClusterIP", "NodePort", "LoadBalancer"], var.service_type)
    error_message = "service_type must be ClusterIP, NodePort or LoadBalancer."
  }
}

variable "service_annotations" {
  description = "Annotations of the client Service (load balancer settings)."
  type        = map(string)
  default     = {}
}

variable "service_account_annotations" {
  description = "Annotations of the pods' ServiceAccount: workload identity for an external KMS (eks.amazonaws.com/role-arn, iam.gke.io/gcp-service-account, azure.workload.identity/client-id)."
  type        = map(string)
  default     = {}
}

variable "pod_labels" {
  description = "Extra labels of the pods (e.g. azure.workload.identity/use = \"true\")."
  type        = map(string)
  default     = {}
}

variable "resources" {
  description = "Container resources (requests and limits: cpu, memory)."
  type = object({
    requests = optional(map(string), { cpu = "500m", memory = "1Gi" })
    limits   = optional(map(string), { memory = "4Gi" })
  })
  default = {}
}

variable "root_user" {
  description = "Root access key (CAIRN_ROOT_USER), kept in the Secret <name>-env."
  type        = string
  default     = "admin"
  sensitive   = true
}

variable "root_password" {
  description = "Root secret key (CAIRN_ROOT_PASSWORD), at least 8 characters, kept in the Secret <name>-env."
  type        = string
  sensitive   = true
}

variable "kms" {
  description = "KMS of SSE-S3/SSE-KMS, as scripts/render takes it: builtin (master_key: base64 of 32 bytes, kept in the Secret), aws, gcp or azure (credentials by workload identity: see service_account_annotations), or none."
  type = object({
    backend         = string
    key             = optional(string, "")
    master_key      = optional(string, "")
    aws_region      = optional(string, "")
    gcp_key_ring    = optional(string, "")
    azure_vault_url = optional(string, "")
    azure_client_id = optional(string, "")
  })
  default = { backend = "none" }
}

variable "extra_args" {
  description = "Extra `cairn server` flags."
  type        = list(string)
  default     = []
}

variable "metrics_public" {
  description = "Serve /metrics without a bearer token."
  type        = bool
  default     = false
}

variable "service_monitor" {
  description = "Create a prometheus-operator ServiceMonitor (the monitoring.coreos.com CRDs must be installed)."
  type        = bool
  default     = false
}

variable "service_monitor_labels" {
  description = "Labels of the ServiceMonitor (what the Prometheus resource selects, e.g. release = kube-prometheus-stack)."
  type        = map(string)
  default     = {}
}

variable "metrics_token_secret" {
  description = "Secret (name, key) holding the metrics bearer token (`cairn admin metrics-token`) for the ServiceMonitor; required with service_monitor unless metrics_public."
  type = object({
    name = string
    key  = string
  })
  default = null

  validation {
    condition     = !var.service_monitor || var.metrics_public || var.metrics_token_secret != null
    error_message = "metrics_token_secret is required when service_monitor is true and metrics_public is false: Prometheus needs the bearer token."
  }
}

variable "max_unavailable" {
  description = "PodDisruptionBudget maxUnavailable: voluntary disruptions (drains) take at most this many pods at once. Keep it at or below the parity of the set."
  type        = number
  default     = 1

  validation {
    condition     = var.max_unavailable >= 1 && floor(var.max_unavailable) == var.max_unavailable && (var.replicas == 1 || var.max_unavailable < var.replicas)
    error_message = "max_unavailable must be a whole number from 1 to replicas - 1: a drain must never take every pod."
  }
}
