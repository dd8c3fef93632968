package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat. Linux fixes it at
// 100 for everything it exports to user space, whatever the kernel's HZ.
const userHZ = 100

// procSample is one reading of a process's CPU time and memory from /proc.
type procSample struct {
	cpu time.Duration // utime + stime, all threads
	hwm int64         // VmHWM (peak resident set) in bytes; 0 if not reported
	rss int64         // VmRSS in bytes; 0 if not reported
}

// readProc samples process pid. It fails if the process does not exist or
// /proc is not available.
func readProc(pid int) (procSample, error) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procSample{}, fmt.Errorf("bench: server process %d: %w", pid, err)
	}
	cpu, err := parseProcStat(stat)
	if err != nil {
		return procSample{}, fmt.Errorf("bench: server process %d: %w", pid, err)
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return procSample{}, fmt.Errorf("bench: server process %d: %w", pid, err)
	}
	s := procSample{cpu: cpu}
	s.hwm, s.rss = parseProcStatus(status)
	return s, nil
}

// parseProcStat returns utime+stime from the contents of /proc/PID/stat.
// The command name (field 2) is in parentheses and may itself contain spaces
// and parentheses, so fields are counted from the last ')'.
func parseProcStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc stat: no command name")
	}
	// After ')': field 3 (state) is f[0], so utime (14) is f[11], stime (15) f[12].
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc stat: %d fields after the command name", len(f))
	}
	var ticks int64
	for _, field := range f[11:13] {
		n, err := strconv.ParseInt(string(field), 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("malformed /proc stat: cpu time %q", field)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// parseProcStatus returns VmHWM and VmRSS in bytes from the contents of
// /proc/PID/status; a missing line (kernel threads, zombies) gives 0.
func parseProcStatus(b []byte) (hwm, rss int64) {
	for line := range bytes.Lines(b) {
		switch {
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			hwm = parseKB(line[len("VmHWM:"):])
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			rss = parseKB(line[len("VmRSS:"):])
		}
	}
	return hwm, rss
}

// parseKB parses "   1234 kB" into bytes, 0 if malformed.
func parseKB(b []byte) int64 {
	f := bytes.Fields(b)
	if len(f) != 2 || string(f[1]) != "kB" {
		return 0
	}
	n, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n << 10
}

// ProcessCPU is the user+system CPU time process pid has used so far (Linux
// /proc), for tools that report work per server CPU-second.
func ProcessCPU(pid int) (time.Duration, error) {
	s, err := readProc(pid)
	return s.cpu, err
}
