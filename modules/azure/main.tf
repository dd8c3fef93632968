# Cairn on Azure VMs: node_count Linux VMs spread over zones, drives_per_node
# managed data disks each (separate resources: replacing a VM keeps its data),
# an internal Standard load balancer, a network security group, a user-assigned
# managed identity with access to one Key Vault key for SSE-KMS, and cloud-init
# from the shared renderer (scripts/render).

data "azurerm_client_config" "current" {}

locals {
  nodes = [for i in range(var.node_count) : {
    index = i
    name  = "${var.name}-${i + 1}"
    zone  = length(var.zones) == 0 ? null : var.zones[i % length(var.zones)]
    ip    = cidrhost(var.subnet.address_prefix, var.ip_offset + i)
  }]

  drives = flatten([for n in local.nodes : [for j in range(var.drives_per_node) : {
    key  = "${n.index}-${j}"
    node = n.index
    lun  = j
    zone = n.zone
  }]])

  vault_id  = var.key_vault.create ? azurerm_key_vault.sse[0].id : var.key_vault.id
  vault_uri = var.key_vault.create ? azurerm_key_vault.sse[0].vault_uri : var.key_vault.uri

  tags = merge({ "cairn-cluster" = var.name }, var.tags)
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
    backend         = "azure"
    key             = var.key_vault.key_name
    azure_vault_url = local.vault_uri
    # A user-assigned identity is found by its client id (DefaultAzureCredential).
    azure_client_id = azurerm_user_assigned_identity.node.client_id
  }
  # Data disks by LUN (Azure's udev rules).
  disks = { for n in local.nodes : n.ip => [for j in range(var.drives_per_node) : "/dev/disk/azure/scsi1/lun${j}"] }
}

# --- Identity and Key Vault.

resource "azurerm_user_assigned_identity" "node" {
  name                = "${var.name}-node"
  resource_group_name = var.resource_group_name
  location            = var.location
  tags                = local.tags
}

resource "azurerm_key_vault" "sse" {
  count                      = var.key_vault.create ? 1 : 0
  name                       = var.key_vault.name
  resource_group_name        = var.resource_group_name
  location                   = var.location
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  purge_protection_enabled   = true
  soft_delete_retention_days = 90
  tags                       = local.tags
}

# Whoever runs Terraform creates and manages the key.
resource "azurerm_key_vault_access_policy" "deployer" {
  count           = var.key_vault.create ? 1 : 0
  key_vault_id    = azurerm_key_vault.sse[0].id
  tenant_id       = data.azurerm_client_config.current.tenant_id
  object_id       = data.azurerm_client_config.current.object_id
  key_permissions = ["Create", "Get", "List", "Update", "Delete", "Recover", "Purge", "GetRotationPolicy", "SetRotationPolicy"]
}

resource "azurerm_key_vault_key" "sse" {
  count        = var.key_vault.create ? 1 : 0
  name         = var.key_vault.key_name
  key_vault_id = azurerm_key_vault.sse[0].id
  key_type     = "RSA"
  key_size     = 3072
  # server/internal/kms's Azure backend wraps locally made data keys (RSA-OAEP-256).
  key_opts   = ["wrapKey", "unwrapKey"]
  depends_on = [azurerm_key_vault_access_policy.deployer]
}

# The nodes: what the Azure backend calls (get the key, wrap, unwrap), nothing more.
resource "azurerm_key_vault_access_policy" "node" {
  key_vault_id    = local.vault_id
  tenant_id       = data.azurerm_client_config.current.tenant_id
  object_id       = azurerm_user_assigned_identity.node.principal_id
  key_permissions = ["Get", "WrapKey", "UnwrapKey"]
}

# --- Network.

resource "azurerm_network_security_group" "node" {
  name                = "${var.name}-node"
  resource_group_name = var.resource_group_name
  location            = var.location
  tags                = local.tags

  security_rule {
    name                       = "cairn-vnet"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = tostring(var.port)
    source_address_prefix      = "VirtualNetwork"
    destination_address_prefix = "*"
  }
  security_rule {
    name                       = "cairn-lb-probe"
    priority                   = 110
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = tostring(var.port)
    source_address_prefix      = "AzureLoadBalancer"
    destination_address_prefix = "*"
  }
  dynamic "security_rule" {
    for_each = length(var.allowed_cidrs) == 0 ? [] : [1]
    content {
      name                       = "cairn-clients"
      priority                   = 120
      direction                  = "Inbound"
      access                     = "Allow"
      protocol                   = "Tcp"
      source_port_range          = "*"
      destination_port_range     = tostring(var.port)
      source_address_prefixes    = var.allowed_cidrs
      destination_address_prefix = "*"
    }
  }
}

resource "azurerm_network_interface" "node" {
  count               = var.node_count
  name                = "${local.nodes[count.index].name}-nic"
  resource_group_name = var.resource_group_name
  location            = var.location
  tags                = local.tags

  ip_configuration {
    name                          = "primary"
    subnet_id                     = var.subnet.id
    private_ip_address_allocation = "Static"
    private_ip_address            = local.nodes[count.index].ip
  }
}

resource "azurerm_network_interface_security_group_association" "node" {
  count                     = var.node_count
  network_interface_id      = azurerm_network_interface.node[count.index].id
  network_security_group_id = azurerm_network_security_group.node.id
}

# --- VMs and disks.

resource "azurerm_managed_disk" "drive" {
  for_each             = { for d in local.drives : d.key => d }
  name                 = "${local.nodes[each.value.node].name}-d${each.value.lun + 1}"
  resource_group_name  = var.resource_group_name
  location             = var.location
  zone                 = each.value.zone
  storage_account_type = var.disk_sku
  create_option        = "Empty"
  disk_size_gb         = var.disk_size_gb
  tags                 = local.tags
}

resource "azurerm_linux_virtual_machine" "node" {
  count                           = var.node_count
  name                            = local.nodes[count.index].name
  resource_group_name             = var.resource_group_name
  location                        = var.location
  zone                            = local.nodes[count.index].zone
  size                            = var.vm_size
  admin_username                  = var.admin_username
  disable_password_authentication = true
  network_interface_ids           = [azurerm_network_interface.node[count.index].id]
  custom_data                     = base64encode(module.render.cloud_init[local.nodes[count.index].ip])
  tags                            = local.tags

  admin_ssh_key {
    username   = var.admin_username
    public_key = var.ssh_public_key
  }

  os_disk {
    caching              = "ReadWrite"
    storage_account_type = "Premium_LRS"
  }

  source_image_reference {
    publisher = var.image.publisher
    offer     = var.image.offer
    sku       = var.image.sku
    version   = var.image.version
  }

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.node.id]
  }

  # Configuration changes are rolled out by replacing VMs one at a time
  # (terraform apply -replace=…); the data disks are kept and re-mounted.
  lifecycle {
    ignore_changes = [custom_data]
  }

  depends_on = [azurerm_key_vault_access_policy.node, azurerm_key_vault_key.sse]
}

resource "azurerm_virtual_machine_data_disk_attachment" "drive" {
  for_each           = { for d in local.drives : d.key => d }
  managed_disk_id    = azurerm_managed_disk.drive[each.key].id
  virtual_machine_id = azurerm_linux_virtual_machine.node[each.value.node].id
  lun                = each.value.lun
  caching            = "None"
}

# --- Internal load balancer.

resource "azurerm_lb" "s3" {
  name                = "${var.name}-s3"
  resource_group_name = var.resource_group_name
  location            = var.location
  sku                 = "Standard"
  tags                = local.tags

  frontend_ip_configuration {
    name                          = "s3"
    subnet_id                     = var.subnet.id
    private_ip_address_allocation = "Dynamic"
    zones                         = length(var.zones) == 0 ? null : var.zones
  }
}

resource "azurerm_lb_backend_address_pool" "s3" {
  name            = "${var.name}-nodes"
  loadbalancer_id = azurerm_lb.s3.id
}

resource "azurerm_network_interface_backend_address_pool_association" "node" {
  count                   = var.node_count
  network_interface_id    = azurerm_network_interface.node[count.index].id
  ip_configuration_name   = "primary"
  backend_address_pool_id = azurerm_lb_backend_address_pool.s3.id
}

resource "azurerm_lb_probe" "ready" {
  name                = "cairn-ready"
  loadbalancer_id     = azurerm_lb.s3.id
  protocol            = "Http"
  port                = var.port
  request_path        = "/cairn/health/ready"
  interval_in_seconds = 5
}

resource "azurerm_lb_rule" "s3" {
  name                           = "s3"
  loadbalancer_id                = azurerm_lb.s3.id
  protocol                       = "Tcp"
  frontend_port                  = var.port
  backend_port                   = var.port
  frontend_ip_configuration_name = "s3"
  backend_address_pool_ids       = [azurerm_lb_backend_address_pool.s3.id]
  probe_id                       = azurerm_lb_probe.ready.id
}
