terraform {
  required_providers {
    cairn = {
      source = "cairn/cairn"
    }
  }
}

# Credentials are best taken from the environment:
#   export CAIRN_ENDPOINT=https://s3.example.com:9000
#   export CAIRN_ACCESS_KEY=... CAIRN_SECRET_KEY=...
provider "cairn" {
  endpoint = "https://s3.example.com:9000"
  region   = "us-east-1"

  # A private CA (PEM text or a file path); `insecure = true` skips verification instead.
  ca_cert = "/etc/cairn/ca.pem"
}
