# terraform test with a mocked azurerm provider (schema from tests/deploy/standin).

mock_provider "azurerm" {
  mock_data "azurerm_client_config" {
    defaults = {
      tenant_id = "00000000-0000-0000-0000-0000000000aa"
      object_id = "00000000-0000-0000-0000-0000000000bb"
    }
  }
  override_resource {
    target = azurerm_user_assigned_identity.node
    values = {
      client_id    = "11111111-1111-1111-1111-111111111111"
      principal_id = "22222222-2222-2222-2222-222222222222"
    }
  }
  override_resource {
    target = azurerm_key_vault.sse
    values = { vault_uri = "https://tst-kv.vault.azure.net/" }
  }
}

variables {
  name                = "tst"
  resource_group_name = "rg-tst"
  location            = "westeurope"
  subnet              = { id = "/subscriptions/s/resourceGroups/rg-tst/providers/Microsoft.Network/virtualNetworks/v/subnets/cairn", address_prefix = "10.1.0.0/24" }
  ssh_public_key      = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxpb24gbGlvbiBsaW9uIGxpb24gbGlvbiBsaW9u test"
  root_password       = "azure-test-secret"
  binary_url          = "https://downloads.example.com/cairn-linux-amd64"
  binary_sha256       = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
  key_vault           = { name = "tst-kv" }
}

run "four_vms_over_three_zones" {
  command = apply
  variables {
    node_count      = 4
    drives_per_node = 2
  }

  assert {
    condition     = [for v in azurerm_linux_virtual_machine.node : v.zone] == ["1", "2", "3", "1"]
    error_message = "VMs not spread over the zones"
  }
  assert {
    condition     = [for n in azurerm_network_interface.node : n.ip_configuration[0].private_ip_address] == ["10.1.0.10", "10.1.0.11", "10.1.0.12", "10.1.0.13"] && alltrue([for n in azurerm_network_interface.node : n.ip_configuration[0].private_ip_address_allocation == "Static"])
    error_message = "static node addresses"
  }
  assert {
    condition     = length(azurerm_managed_disk.drive) == 8 && alltrue([for k, d in azurerm_managed_disk.drive : d.zone == azurerm_linux_virtual_machine.node[tonumber(split("-", k)[0])].zone && d.create_option == "Empty"])
    error_message = "8 empty data disks, each in its VM's zone"
  }
  assert {
    condition     = azurerm_virtual_machine_data_disk_attachment.drive["3-1"].lun == 1 && azurerm_virtual_machine_data_disk_attachment.drive["3-1"].virtual_machine_id == azurerm_linux_virtual_machine.node[3].id
    error_message = "disk attachments by LUN"
  }
  assert {
    condition     = output.pool_args == ["http://10.1.0.10:9000/var/lib/cairn/d{1...2},http://10.1.0.11:9000/var/lib/cairn/d{1...2},http://10.1.0.12:9000/var/lib/cairn/d{1...2},http://10.1.0.13:9000/var/lib/cairn/d{1...2}"] && output.set_sizes == [8]
    error_message = "pool: ${jsonencode(output.pool_args)}"
  }

  # Managed identity and Key Vault.
  assert {
    condition     = alltrue([for v in azurerm_linux_virtual_machine.node : v.identity[0].type == "UserAssigned" && contains(v.identity[0].identity_ids, azurerm_user_assigned_identity.node.id)])
    error_message = "every VM carries the user-assigned identity"
  }
  assert {
    condition     = azurerm_key_vault_access_policy.node.object_id == "22222222-2222-2222-2222-222222222222" && toset(azurerm_key_vault_access_policy.node.key_permissions) == toset(["Get", "WrapKey", "UnwrapKey"]) && azurerm_key_vault_access_policy.node.key_vault_id == azurerm_key_vault.sse[0].id
    error_message = "the identity may get, wrap and unwrap with the vault's keys, nothing more"
  }
  assert {
    condition     = azurerm_key_vault_key.sse[0].key_type == "RSA" && toset(azurerm_key_vault_key.sse[0].key_opts) == toset(["wrapKey", "unwrapKey"]) && azurerm_key_vault.sse[0].purge_protection_enabled
    error_message = "RSA wrap/unwrap key in a purge-protected vault"
  }
  assert {
    condition = alltrue([for s in [
      "CAIRN_KMS_BACKEND=\"azure\"",
      "CAIRN_KMS_AZURE_VAULT_URL=\"https://tst-kv.vault.azure.net/\"",
      "CAIRN_KMS_DEFAULT_KEY=\"cairn-sse\"",
      "AZURE_CLIENT_ID=\"11111111-1111-1111-1111-111111111111\"",
    ] : strcontains(base64decode(yamldecode(output.cloud_init["10.1.0.12"]).write_files[0].content), s)])
    error_message = "env file must select Key Vault through the managed identity"
  }
  assert {
    condition     = !strcontains(base64decode(yamldecode(output.cloud_init["10.1.0.12"]).write_files[0].content), "AZURE_CLIENT_SECRET")
    error_message = "no client secret: the managed identity is the credential"
  }
  assert {
    condition     = base64decode(azurerm_linux_virtual_machine.node[2].custom_data) == output.cloud_init["10.1.0.12"]
    error_message = "VM 3 boots with its own cloud-init"
  }
  assert {
    condition     = strcontains(base64decode(yamldecode(output.cloud_init["10.1.0.12"]).write_files[1].content), "\"--address\" \"10.1.0.12:9000\"") && strcontains(jsonencode(yamldecode(output.cloud_init["10.1.0.12"]).runcmd), "CAIRN_DISKS=/dev/disk/azure/scsi1/lun0=/var/lib/cairn/d1 /dev/disk/azure/scsi1/lun1=/var/lib/cairn/d2")
    error_message = "unit address and LUN mounts of VM 3"
  }

  # Load balancer.
  assert {
    condition     = azurerm_lb.s3.sku == "Standard" && azurerm_lb_probe.ready.request_path == "/cairn/health/ready" && length(azurerm_network_interface_backend_address_pool_association.node) == 4 && azurerm_lb_rule.s3.frontend_port == 9000
    error_message = "internal LB with a readiness probe over every node"
  }
}

run "existing_vault" {
  command = apply
  variables {
    node_count      = 2
    drives_per_node = 1
    key_vault       = { create = false, id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/shared", uri = "https://shared.vault.azure.net/", key_name = "objects" }
    zones           = []
  }
  assert {
    condition     = length(azurerm_key_vault.sse) == 0 && length(azurerm_key_vault_key.sse) == 0 && azurerm_key_vault_access_policy.node.key_vault_id == "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/shared"
    error_message = "existing vault: nothing created, access granted on it"
  }
  assert {
    condition     = strcontains(base64decode(yamldecode(output.cloud_init["10.1.0.10"]).write_files[0].content), "CAIRN_KMS_DEFAULT_KEY=\"objects\"") && output.set_sizes == [2]
    error_message = "key name of the existing vault; 2 drives make one set of 2"
  }
}

run "missing_vault" {
  command = plan
  variables {
    key_vault = { create = false }
  }
  expect_failures = [var.key_vault]
}

run "vault_name_required" {
  command = plan
  variables {
    key_vault = { create = true }
  }
  expect_failures = [var.key_vault]
}

run "nineteen_drives" {
  command = plan
  variables {
    node_count      = 19
    drives_per_node = 1
  }
  expect_failures = [var.drives_per_node]
}
