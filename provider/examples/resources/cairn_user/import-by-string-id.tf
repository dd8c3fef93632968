import {
  to = cairn_user.analyst
  id = "analyst"
}
