package deploy

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sshd is an OpenSSH server of one test: its own host key, config and
// authorized key, listening on one port of several loopback addresses (each
// address is one "host" of modules/onprem). It logs in as the user running the
// test, with the throwaway key in KeyFile only.
type sshd struct {
	Port       int
	KeyFile    string // private key of the client
	KnownHosts string // known_hosts file for the client (filled on first contact)
	User       string
}

// startSSHD starts /usr/sbin/sshd (Debian's openssh-server) in the foreground
// on addrs and stops it when the test ends. It skips the test when sshd is not
// installed, except on CI (.ci/run installs it).
func startSSHD(t *testing.T, addrs []string) *sshd {
	t.Helper()
	bin := "/usr/sbin/sshd"
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sshd is not installed: .ci/run must install openssh-server")
		}
		t.Skip("sshd is not installed (apt-get install openssh-server)")
	}
	dir := t.TempDir()
	for _, k := range []string{"host", "client"} {
		out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cairn-test-"+k, "-f", filepath.Join(dir, k)).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, err := os.ReadFile(filepath.Join(dir, "client.pub"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600))
	if os.Geteuid() == 0 {
		must(t, os.MkdirAll("/run/sshd", 0o755)) // privilege separation directory
	}
	user := os.Getenv("USER")
	if out, err := exec.Command("id", "-un").Output(); err == nil {
		user = strings.TrimSpace(string(out))
	}

	port := freePortOn(t, addrs)
	var listen strings.Builder
	for _, a := range addrs {
		fmt.Fprintf(&listen, "ListenAddress %s:%d\n", a, port)
	}
	cfg := filepath.Join(dir, "sshd_config")
	must(t, os.WriteFile(cfg, []byte(listen.String()+fmt.Sprintf(`HostKey %s
PidFile %s
AuthorizedKeysFile %s
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
AllowUsers %s
MaxStartups 64
MaxSessions 64
Subsystem sftp internal-sftp
LogLevel ERROR
`, filepath.Join(dir, "host"), filepath.Join(dir, "sshd.pid"), filepath.Join(dir, "authorized_keys"), user)), 0o600))

	cmd := exec.Command(bin, "-D", "-e", "-f", cfg)
	logf, err := os.Create(filepath.Join(dir, "sshd.log"))
	must(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	must(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("sshd log:\n%s", tail(b, 30))
		}
	})
	// Ready when every address accepts and greets.
	deadline := time.Now().Add(10 * time.Second)
	for _, a := range addrs {
		for {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", a, port), time.Second)
			if err == nil {
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				c.Close()
				if strings.HasPrefix(line, "SSH-2.0-") {
					break
				}
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(logf.Name())
				t.Fatalf("sshd not answering on %s:%d: %v\n%s", a, port, err, b)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	s := &sshd{Port: port, KeyFile: filepath.Join(dir, "client"), KnownHosts: filepath.Join(dir, "known_hosts"), User: user}
	// The client logs in (the throwaway key, nothing else).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ssh", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
		"-o", "UserKnownHostsFile="+s.KnownHosts, "-o", "StrictHostKeyChecking=accept-new",
		"-i", s.KeyFile, "-p", fmt.Sprint(port), user+"@"+addrs[0], "echo ok").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("ssh to the test sshd: %v\n%s", err, out)
	}
	return s
}

// freePortOn returns a TCP port free on every one of addrs now.
func freePortOn(t *testing.T, addrs []string) int {
	t.Helper()
	for attempt := 0; attempt < 50; attempt++ {
		ln, err := net.Listen("tcp", addrs[0]+":0")
		must(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		ls := []net.Listener{ln}
		ok := true
		for _, a := range addrs[1:] {
			l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", a, port))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return port
		}
	}
	t.Fatalf("no port free on all of %v", addrs)
	return 0
}
