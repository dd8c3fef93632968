// Package deploy applies the deployment modules under modules/ for real: a
// Terraform root configuration from examples/ is run with the machine's terraform
// and the cairn provider installed from a filesystem mirror (no registry).
//
// TestLocalExample (make e2e-local) deploys examples/local: a 3-node × 2-drive
// cluster of cairn processes on loopback (modules/local), configured by the cairn
// provider in the same apply.
package deploy
