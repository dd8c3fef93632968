// Package cluster tests multi-node Cairn clusters: several real `cairn` processes
// on loopback addresses forming one erasure-coded pool. It proves that any node
// answers any request, that a dead node costs nothing while quorum holds, and that
// a node whose drives are wiped is rebuilt by the scanner. TestTLSCluster runs
// the nodes over HTTPS with one cluster CA and checks that node-to-node calls
// are TLS only and that a node with a certificate of another CA cannot join.
package cluster
