resource "cairn_user" "ci" {
  name = "ci"
}

resource "cairn_user_policy_attachment" "ci" {
  user   = cairn_user.ci.name
  policy = "readwrite"
}

# Recommended: you choose the secret and pass it write-only; it is sent to the
# server once and kept in neither the plan nor the state. Here it comes from an
# ephemeral resource (hashicorp/random >= 3.7) and goes, write-only as well, to
# wherever the application reads it from. Bump secret_wo_version to rotate: a new
# key with a new secret replaces this one.
ephemeral "random_password" "ci" {
  length  = 40
  special = false
}

resource "cairn_access_key" "ci" {
  user              = cairn_user.ci.name
  name              = "ci"
  description       = "CI pipeline uploads"
  secret_wo         = ephemeral.random_password.ci.result
  secret_wo_version = 1
}

# Or let the server generate the secret and keep it in the state (sensitive, but
# plain text there, as with aws_iam_access_key). The key is restricted by an
# inline policy and expires.
resource "cairn_access_key" "backup" {
  user                  = cairn_user.ci.name
  name                  = "nightly-backup"
  store_secret_in_state = true
  expiration            = "2030-01-01T00:00:00Z"
  policy = jsonencode({
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = "arn:aws:s3:::backups/*"
    }]
  })
}

output "backup_credentials" {
  value = {
    access_key = cairn_access_key.backup.access_key
    secret_key = cairn_access_key.backup.secret
  }
  sensitive = true
}
