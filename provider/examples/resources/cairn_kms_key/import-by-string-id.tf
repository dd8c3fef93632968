import {
  to = cairn_kms_key.billing
  id = "billing"
}
