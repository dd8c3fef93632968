import {
  to = cairn_bucket_encryption.invoices
  id = "invoices"
}
