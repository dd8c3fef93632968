// Package cluster tests multi-node Cairn clusters: several real `cairn` processes
// on loopback addresses forming one erasure-coded pool. It proves that any node
// answers any request, that a dead node costs nothing while quorum holds, and that
// a node whose drives are wiped is rebuilt by the scanner. The pool tests grow,
// rebalance and drain a live cluster, add two pools at once through two nodes
// (the cluster lock of pool changes orders them), and kill the node running a
// rebalance half-way (it resumes when the node restarts). TestTLSCluster runs
// the nodes over HTTPS with one cluster CA and checks that node-to-node calls
// are TLS only and that a node with a certificate of another CA cannot join.
package cluster
