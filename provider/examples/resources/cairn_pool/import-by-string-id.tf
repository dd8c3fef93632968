import {
  to = cairn_pool.expansion
  id = "1"
}
