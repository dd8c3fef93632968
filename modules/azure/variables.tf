variable "name" {
  description = "Name prefix of every resource."
  type        = string
  default     = "cairn"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}$", var.name))
    error_message = "name must start with a letter and hold at most 31 lowercase letters, digits and hyphens."
  }
}

variable "resource_group_name" {
  description = "Existing resource group of every resource."
  type        = string
}

variable "location" {
  description = "Azure region (e.g. westeurope)."
  type        = string
}

variable "subnet" {
  description = "Existing subnet of the VMs and of the internal load balancer: its id and address prefix (node i gets the static address cidrhost(address_prefix, ip_offset + i))."
  type = object({
    id             = string
    address_prefix = string
  })

  validation {
    condition     = can(cidrhost(var.subnet.address_prefix, 0)) && can(regex("/subnets/", var.subnet.id))
    error_message = "subnet needs the subnet's resource id (…/subnets/NAME) and its address prefix (e.g. 10.1.0.0/24)."
  }
}

variable "ip_offset" {
  description = "Host number of node 1's address in the subnet (Azure reserves .0–.3)."
  type        = number
  default     = 10

  validation {
    condition     = var.ip_offset >= 4
    error_message = "ip_offset must be at least 4: Azure reserves the first four addresses of a subnet."
  }
}

variable "zones" {
  description = "Availability zones the VMs (and their disks) are spread over round-robin; [] for a region without zones."
  type        = list(string)
  default     = ["1", "2", "3"]
}

variable "node_count" {
  description = "VMs, one Cairn node each."
  type        = number
  default     = 4

  validation {
    condition     = var.node_count >= 1 && var.node_count <= 64 && floor(var.node_count) == var.node_count
    error_message = "node_count must be a whole number from 1 to 64."
  }
}

variable "drives_per_node" {
  description = "Managed data disks per VM (LUN 0…N-1), each one drive. node_count × drives_per_node must divide into equal erasure sets of 2–16 drives."
  type        = number
  default     = 4

  validation {
    condition     = var.drives_per_node >= 1 && var.drives_per_node <= 32 && floor(var.drives_per_node) == var.drives_per_node
    error_message = "drives_per_node must be a whole number from 1 to 32."
  }
  validation {
    condition = (
      var.node_count * var.drives_per_node == 1 ||
      anytrue([for s in range(2, 17) : (var.node_count * var.drives_per_node) % s == 0])
    )
    error_message = "node_count × drives_per_node is not a valid erasure layout: the drive count must divide into equal sets of 2–16 drives (e.g. 4 × 4 = 16, 3 × 2 = 6; not 17, 19 or 23), or be a single drive."
  }
}

variable "disk_size_gb" {
  description = "Size of each data disk, GiB."
  type        = number
  default     = 128
}

variable "disk_sku" {
  description = "Storage type of the data disks."
  type        = string
  default     = "Premium_LRS"

  validation {
    condition     = contains(["Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "PremiumV2_LRS", "StandardSSD_ZRS", "Premium_ZRS", "UltraSSD_LRS"], var.disk_sku)
    error_message = "disk_sku must be an Azure managed disk storage type (e.g. Premium_LRS)."
  }
}

variable "vm_size" {
  description = "VM size (SCSI data disks: /dev/disk/azure/scsi1/lunN)."
  type        = string
  default     = "Standard_D4s_v5"
}

variable "admin_username" {
  description = "Admin user of the VMs (SSH key only)."
  type        = string
  default     = "cairnadmin"
}

variable "ssh_public_key" {
  description = "SSH public key of admin_username."
  type        = string

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp[0-9]+) ", var.ssh_public_key))
    error_message = "ssh_public_key must be an OpenSSH public key (ssh-ed25519 …, ssh-rsa …)."
  }
}

variable "image" {
  description = "Marketplace image with cloud-init and systemd."
  type = object({
    publisher = string
    offer     = string
    sku       = string
    version   = string
  })
  default = {
    publisher = "Canonical"
    offer     = "ubuntu-24_04-lts"
    sku       = "server"
    version   = "latest"
  }
}

variable "key_vault" {
  description = "SSE-KMS with Azure Key Vault. create = true makes a vault named name (globally unique, 3–24 characters) with an RSA key key_name; otherwise id and uri name an existing vault holding key_name. The VMs' user-assigned managed identity gets Get, WrapKey and UnwrapKey on the vault's keys (an access policy); no secrets reach the VMs."
  type = object({
    create   = optional(bool, true)
    name     = optional(string, "")
    id       = optional(string, "")
    uri      = optional(string, "")
    key_name = optional(string, "cairn-sse")
  })

  validation {
    condition     = !var.key_vault.create || can(regex("^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$", var.key_vault.name))
    error_message = "key_vault.name (3–24 letters, digits and hyphens, globally unique) is required when key_vault.create is true."
  }
  validation {
    condition     = var.key_vault.create || (can(regex("/providers/Microsoft.KeyVault/vaults/", var.key_vault.id)) && startswith(var.key_vault.uri, "https://"))
    error_message = "key_vault.id (…/providers/Microsoft.KeyVault/vaults/NAME) and key_vault.uri (https://NAME.vault.azure.net/) are required when key_vault.create is false."
  }
  validation {
    condition     = can(regex("^[a-zA-Z0-9-]{1,127}$", var.key_vault.key_name))
    error_message = "key_vault.key_name must hold 1–127 letters, digits and hyphens."
  }
}

variable "allowed_cidrs" {
  description = "Client networks allowed to reach the S3 port (the virtual network always can)."
  type        = list(string)
  default     = []
}

variable "port" {
  description = "S3 port of every node and of the load balancer."
  type        = number
  default     = 9000
}

variable "root_user" {
  description = "Root access key (CAIRN_ROOT_USER)."
  type        = string
  default     = "admin"
  sensitive   = true
}

variable "root_password" {
  description = "Root secret key (CAIRN_ROOT_PASSWORD), at least 8 characters (delivered in the VMs' custom data)."
  type        = string
  sensitive   = true
}

variable "binary_url" {
  description = "HTTPS URL of the cairn binary (linux) that cloud-init downloads."
  type        = string

  validation {
    condition     = startswith(var.binary_url, "https://")
    error_message = "binary_url must be an https:// URL."
  }
}

variable "binary_sha256" {
  description = "SHA-256 (hex) of the binary at binary_url."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.binary_sha256))
    error_message = "binary_sha256 must be 64 lowercase hex digits."
  }
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

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
