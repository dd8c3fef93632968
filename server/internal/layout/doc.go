// Package layout turns the server's drive arguments into erasure sets and
// keeps each drive's identity on disk.
//
// It owns three things:
//
//   - Drive patterns. [Expand] and [ExpandPool] expand ellipsis patterns such
//     as "/mnt/d{1...16}" or "http://10.0.0.{1...4}:9000/srv/d{01...08}"
//     into the ordered list of drives of one pool. Expansion is textual: the
//     same pattern always gives the same drives in the same order.
//   - Set sizing. [Plan] cuts a pool's drives into equal erasure sets of 2–16
//     drives and picks the default data/parity split; [SetOf] says which set
//     and slot a drive argument lands in.
//   - Drive identity. Every drive carries a [Format] in [FormatFile]: the
//     deployment id, the drive's own id, its pool, set and slot, and the ids of
//     every drive of the pool. [Load] and [Save] read and write it;
//     [Reconcile] (or [ReconcileStates]) compares what was found on the drives
//     with what the arguments ask for, and decides whether the server may
//     start, what must be written, and which drives are replacements.
//
// # Invariants
//
//   - The deployment id never changes once a pool is formatted, and a drive
//     that carries another deployment's id is never adopted or overwritten.
//   - A drive's slot never changes: drive i of a pool's argument list is
//     always slot i%SetSize of set i/SetSize, and the drive id recorded at
//     that position stays there. A formatted drive found at another position
//     (swapped cables, reordered arguments) stops the server instead of being
//     rewritten.
//   - The number of drives and the set size of a pool never change. Capacity
//     grows by adding pools, not drives.
//   - A blank drive in a known slot is a replacement: it receives the slot's
//     existing drive id, so healing can find and refill it.
//   - format.json is only replaced atomically (temp file, fsync, rename, fsync
//     of the directory), and its encoding is pinned by a golden file.
//
// The default parity (data/parity split) is recorded at format time but is
// only a default: parity is recorded per object, so a later start may ask
// for a different parity for new writes without rewriting any format.
//
// # Where it sits
//
// layout runs once at server start, before the object layer exists:
//
//	command line → Expand/ExpandPool → Plan → LoadAll → Reconcile → Save (ToWrite)
//	             → drive (open each root) → erasure sets → objects
//
// Nothing here is on the request path, and the package has no global state:
// every function is safe for concurrent use on distinct roots.
//
// Multi-node deployments (endpoints like http://host:port/path) are expanded
// here already, but the identity files of remote drives are read through the
// node RPC, not by [Load]; and sets are assigned to drives in argument order
// only (no interleaving across nodes yet, see [SetOf]).
package layout
