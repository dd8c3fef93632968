package layout_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/cairn-io/cairn/server/internal/layout"
)

func ExampleExpand() {
	drives, err := layout.Expand("/mnt/n{1...2}/d{01...03}")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(drives)
	// Output: [/mnt/n1/d01 /mnt/n1/d02 /mnt/n1/d03 /mnt/n2/d01 /mnt/n2/d02 /mnt/n2/d03]
}

func ExamplePlan() {
	for _, n := range []int{1, 6, 18, 32} {
		l, err := layout.Plan(n, 0)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d drives: %v, write quorum %d\n", n, l, l.WriteQuorum())
	}
	_, err := layout.Plan(17, 0)
	fmt.Println(err)
	// Output:
	// 1 drives: 1 set of 1 drive (1 data + 0 parity), write quorum 1
	// 6 drives: 1 set of 6 drives (4 data + 2 parity), write quorum 4
	// 18 drives: 2 sets of 9 drives (6 data + 3 parity), write quorum 6
	// 32 drives: 2 sets of 16 drives (12 data + 4 parity), write quorum 12
	// layout: invalid erasure layout: 17 drives cannot be divided into sets of 2–16 drives; use a drive count with a divisor in that range, e.g. 16 or 18
}

// ExampleReconcileStates is the startup sequence of one pool.
func ExampleReconcileStates() {
	dir, err := os.MkdirTemp("", "cairn-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	start := func() {
		roots, err := layout.ExpandPool(filepath.Join(dir, "d{1...6}"))
		if err != nil {
			log.Fatal(err)
		}
		l, err := layout.Plan(len(roots), 0)
		if err != nil {
			log.Fatal(err)
		}
		res, err := layout.ReconcileStates(layout.LoadAll(roots), l, 0)
		if err != nil {
			log.Fatal(err)
		}
		for _, i := range res.ToWrite {
			if err := layout.Save(roots[i], res.Formats[i]); err != nil {
				log.Fatal(err)
			}
		}
		fmt.Printf("fresh=%v write=%v replaced=%v\n", res.Fresh, res.ToWrite, res.Replaced)
	}
	start() // first start formats every drive
	start() // a restart writes nothing
	os.RemoveAll(filepath.Join(dir, "d4"))
	start() // a blank drive 4 is a replacement
	// Output:
	// fresh=true write=[0 1 2 3 4 5] replaced=[]
	// fresh=false write=[] replaced=[]
	// fresh=false write=[3] replaced=[3]
}
