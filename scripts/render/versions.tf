terraform {
  # optional() object attributes with defaults (1.3), cross-variable validation (1.9).
  required_version = ">= 1.10"
}
