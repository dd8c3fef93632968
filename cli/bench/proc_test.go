package bench

import (
	"os"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		in      string
		want    time.Duration
		wantErr bool
	}{
		{
			name: "plain",
			in:   "1234 (cairn) S 1 1234 1234 0 -1 4194560 5000 0 0 0 250 130 0 0 20 0 12 0 100 1000000 2000 18446744073709551615",
			want: 3800 * time.Millisecond,
		},
		{
			name: "command with spaces and parens",
			in:   "77 (a) b (c)) R 1 77 77 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 1 1",
			want: 100 * time.Millisecond,
		},
		{name: "no command", in: "1234 cairn S 1", wantErr: true},
		{name: "truncated", in: "1234 (cairn) S 1 2 3", wantErr: true},
		{name: "bad number", in: "1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 3 0", wantErr: true},
	} {
		got, err := parseProcStat([]byte(tc.in))
		if tc.wantErr != (err != nil) || got != tc.want {
			t.Errorf("%s: parseProcStat = %v, %v; want %v, error %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseProcStatus(t *testing.T) {
	t.Parallel()
	in := "Name:\tcairn\nVmPeak:\t  900000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t12\n"
	hwm, rss := parseProcStatus([]byte(in))
	if hwm != 20<<20 || rss != 10<<20 {
		t.Errorf("parseProcStatus = %d, %d; want %d, %d", hwm, rss, 20<<20, 10<<20)
	}
	if hwm, rss := parseProcStatus([]byte("Name:\tkthreadd\nState:\tS\n")); hwm != 0 || rss != 0 {
		t.Errorf("kernel thread: %d, %d; want 0, 0", hwm, rss)
	}
}

func TestReadProcSelf(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.hwm <= 0 || s.rss <= 0 || s.rss > s.hwm {
		t.Errorf("readProc(self) = %+v, want 0 < rss <= hwm", s)
	}
}
