terraform {
  # Only built-in Terraform: terraform_data (1.4) with file/remote-exec/local-exec
  # provisioners; cross-variable validation (1.9).
  required_version = ">= 1.10"
}
