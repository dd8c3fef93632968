// Package deploy tests the deployment modules under modules/ and the shared
// renderer scripts/render, with the machine's terraform and no registry.
//
//   - TestLocalExample (make e2e-local) deploys examples/local: a 3-node ×
//     2-drive cluster of cairn processes on loopback (modules/local),
//     configured by the cairn provider (filesystem mirror) in the same apply.
//   - TestOnpremModule (make e2e-onprem) applies modules/onprem over SSH (a
//     throwaway sshd of the test) to three loopback "hosts", serves S3 through
//     every node, rolls a configuration change one host at a time, destroys.
//   - TestCloudModules runs the terraform test suites of scripts/render and of
//     modules/onprem, aws, azure, gcp and kubernetes, and validates the examples,
//     with schema-only stand-ins of the cloud providers (./standin) installed in
//     a filesystem mirror; the suites mock the providers. Nothing reaches a cloud.
//   - TestKubernetesManifests parses every object modules/kubernetes applies
//     strictly into the k8s.io/api types.
//   - TestInstallScript runs scripts/render/install.sh as cloud-init does:
//     download from a loopback server, SHA-256 check, drive directories.
//   - TestDockerfile checks the Dockerfile's build against `make static` and the
//     static binary.
package deploy
