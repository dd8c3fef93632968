terraform {
  # terraform_data (1.4), cross-variable validation (1.9), S3 lockfile backend (1.10).
  required_version = ">= 1.10"
}
