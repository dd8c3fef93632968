resource "cairn_kms_key" "billing" {
  name = "billing"

  # Change to rotate: new objects get the new version, existing ones are
  # re-sealed in the background.
  rotate_trigger = "2026-01"

  # Destroying a key makes what it sealed unreadable: destroy is refused until
  # this is true (and applied).
  deletion_allowed = false
}
