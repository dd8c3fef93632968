import {
  to = cairn_policy.reports_read
  id = "reports-read"
}
