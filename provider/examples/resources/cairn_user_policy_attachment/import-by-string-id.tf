import {
  to = cairn_user_policy_attachment.analyst_reports
  id = "analyst/reports-read"
}
