// Command decombench measures a live decommission (issue #3): it adds a pool to a
// running server through the admin API, drains pool 0 into it, and reports the
// bytes and versions moved per second.
//
//	cairn bench --endpoint http://127.0.0.1:9630 --op put --size 1MiB --duration 10s --keep
//	go run ./scripts/decombench -endpoint http://127.0.0.1:9630 -drives '/tmp/dc/p1/d{1...6}'
//
// Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (root).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/cairn-io/cairn/cli/bench"
	"github.com/cairn-io/cairn/server/admin"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:9000", "server")
	drives := flag.String("drives", "", "the new pool's drives (one pool argument)")
	pid := flag.Int("pid", 0, "server pid, for MiB per server CPU-second")
	flag.Parse()
	ctx := context.Background()
	ac, err := admin.New(*endpoint, admin.Options{AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"), SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY")})
	if err != nil {
		log.Fatal(err)
	}
	p, err := ac.AddPool(ctx, admin.AddPoolRequest{Drives: []string{*drives}})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("pool %d added: %d drives, %d sets", p.Index, p.Drives, p.Sets)
	cpu0 := cpuSeconds(*pid)
	start := time.Now()
	if _, err := ac.DecommissionPool(ctx, 0); err != nil {
		log.Fatal(err)
	}
	var last admin.DecommissionStatus
	for {
		ps, err := ac.Pools(ctx)
		if err != nil {
			log.Fatal(err)
		}
		gone := true
		for _, p := range ps {
			if p.Index == 0 {
				gone = false
				if p.Decommission != nil {
					last = *p.Decommission
				}
			}
		}
		if gone {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	el := time.Since(start).Seconds()
	mib := float64(last.BytesMoved) / (1 << 20)
	line := fmt.Sprintf("drained pool 0 in %.1f s: %d objects, %d versions, %.0f MiB moved: %.1f MiB/s, %.0f versions/s",
		el, last.ObjectsMoved, last.VersionsMoved, mib, mib/el, float64(last.VersionsMoved)/el)
	if cpu := cpuSeconds(*pid) - cpu0; cpu > 0 {
		line += fmt.Sprintf(", %.1f MiB per server CPU-second", mib/cpu)
	}
	fmt.Println(line)
}

// cpuSeconds is the CPU time of process pid in seconds, 0 if unknown.
func cpuSeconds(pid int) float64 {
	if pid == 0 {
		return 0
	}
	d, err := bench.ProcessCPU(pid)
	if err != nil {
		return 0
	}
	return d.Seconds()
}
