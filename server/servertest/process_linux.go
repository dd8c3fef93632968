package servertest

import (
	"os/exec"
	"syscall"
)

// setParentDeath makes the kernel kill the server when the test binary dies (a
// `go test` timeout, a crash), so no orphaned server outlives its test.
func setParentDeath(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
