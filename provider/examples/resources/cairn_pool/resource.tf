# Six new drives on the server, formatted as one 4+2 erasure set and added to the
# running server. Destroying the pool drains it into the other pools first.
resource "cairn_pool" "expansion" {
  drives = ["/mnt/disk{1...6}/cairn"]
  parity = 2

  # Draining a full pool takes a while: destroy waits up to this long.
  timeouts = {
    delete = "6h"
  }
}
