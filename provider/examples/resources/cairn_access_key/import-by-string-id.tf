import {
  to = cairn_access_key.ci
  id = "CK7QZ4N2XW5RT3YB6PLM"
}
