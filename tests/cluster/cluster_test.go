package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/cairn-io/cairn/server/servertest"
)

func TestMain(m *testing.M) { os.Exit(servertest.Main(m)) }

type node struct {
	p     *servertest.Process
	addr  string
	drive []string
}

// startCluster starts n nodes with d drives each, all in one pool.
func startCluster(t *testing.T, n, d int, extra ...string) []*node {
	t.Helper()
	dir := t.TempDir()
	nodes := make([]*node, n)
	var patterns []string
	for i := range nodes {
		addr := servertest.FreeAddr(t)
		base := filepath.Join(dir, fmt.Sprintf("n%d", i+1))
		nodes[i] = &node{addr: addr}
		for j := 1; j <= d; j++ {
			nodes[i].drive = append(nodes[i].drive, filepath.Join(base, fmt.Sprintf("d%d", j)))
		}
		patterns = append(patterns, fmt.Sprintf("http://%s%s/d{1...%d}", addr, base, d))
	}
	pool := strings.Join(patterns, ",")
	args := append([]string{"--scanner-interval", "500ms", "--scanner-rate", "5000"}, extra...)
	// Start in reverse order: nodes wait for the first node, which formats the cluster.
	for i := n - 1; i >= 0; i-- {
		nodes[i].p = servertest.StartProcess(t, servertest.ProcOptions{DriveArgs: []string{pool}, Address: nodes[i].addr, Args: args})
	}
	for i, nd := range nodes {
		waitReady(t, nd.p.URL)
		t.Logf("node %d ready", i+1)
	}
	return nodes
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/cairn/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready after 30 s", url)
}

func put(t *testing.T, c *s3.Client, key string, data []byte) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func get(c *s3.Client, key string) ([]byte, error) {
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func checkAll(t *testing.T, nodes []*node, want map[string][]byte, skip map[int]bool) {
	t.Helper()
	i := 0
	for k, data := range want {
		for skip[i%len(nodes)] {
			i++
		}
		got, err := get(nodes[i%len(nodes)].p.Client(), k)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("GET %s via node %d: %v (len %d, want %d)", k, i%len(nodes)+1, err, len(got), len(data))
		}
		i++
	}
}

// waitAllHeld waits until every drive of nodes holds the metadata of every key.
func waitAllHeld(t *testing.T, nodes []*node, want map[string][]byte, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		missing := ""
		for _, n := range nodes {
			for _, d := range n.drive {
				for k := range want {
					if _, err := os.Stat(filepath.Join(d, "data", k+"%m")); err != nil && missing == "" {
						missing = filepath.Join(d, "data", k+"%m")
					}
				}
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healed within %v: %s is missing", limit, missing)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestFourNodeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four server processes")
	}
	start := time.Now()
	nodes := startCluster(t, 4, 4)
	t.Logf("cluster of 4 nodes ready in %v", time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	c1 := nodes[0].p.Client()
	if _, err := c1.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	want := map[string][]byte{}
	for i := 0; i < 24; i++ {
		size := []int{0, 100, 5000, 200 << 10, 1 << 20, 3<<20 + 17}[i%6]
		data := make([]byte, size)
		rng.Read(data)
		k := fmt.Sprintf("obj/%02d", i)
		want[k] = data
		put(t, nodes[i%4].p.Client(), k, data) // written through every node
	}
	t.Run("any node reads what any node wrote", func(t *testing.T) { checkAll(t, nodes, want, nil) })
	t.Run("listing through another node", func(t *testing.T) {
		out, err := nodes[3].p.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data")})
		if err != nil || len(out.Contents) != len(want) {
			t.Fatalf("list: %v, %d objects", err, len(out.Contents))
		}
	})
	t.Run("conditional writes are atomic across nodes", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[string]int{}
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := nodes[i%4].p.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("lease"),
					Body: strings.NewReader(fmt.Sprint("writer ", i)), IfNoneMatch: aws.String("*")})
				mu.Lock()
				defer mu.Unlock()
				var ae smithy.APIError
				switch {
				case err == nil:
					codes["200"]++
				case errors.As(err, &ae):
					codes[ae.ErrorCode()]++
				default:
					codes[err.Error()]++
				}
			}()
		}
		wg.Wait()
		if codes["200"] != 1 || codes["PreconditionFailed"] != 49 {
			t.Fatalf("50 If-None-Match PUTs over 4 nodes: %v", codes)
		}
	})
	t.Run("node killed under load: no acknowledged write lost", func(t *testing.T) {
		var mu sync.Mutex
		acked := map[string][]byte{}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 6; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := nodes[w%3].p.Client() // nodes 1-3 stay up
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					k := fmt.Sprintf("load/w%d/%04d", w, i)
					data := []byte(strings.Repeat(k, 1+i%300))
					if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(k), Body: bytes.NewReader(data)}); err != nil {
						continue // failed writes need not survive
					}
					mu.Lock()
					acked[k] = data
					mu.Unlock()
				}
			}()
		}
		time.Sleep(700 * time.Millisecond)
		nodes[3].p.Kill()
		time.Sleep(1500 * time.Millisecond)
		close(stop)
		wg.Wait()
		if len(acked) < 10 {
			t.Fatalf("only %d writes acknowledged", len(acked))
		}
		for k, data := range acked {
			got, err := get(nodes[int(k[6]-'0')%3].p.Client(), k)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("acknowledged %s: %v", k, err)
			}
		}
		t.Logf("%d writes acknowledged around the kill, all readable", len(acked))
		nodes[3].p.Restart(t)
		waitReady(t, nodes[3].p.URL)
	})
	t.Run("one node killed", func(t *testing.T) {
		nodes[3].p.Kill()
		checkAll(t, nodes, want, map[int]bool{3: true})
		data := []byte("written while node 4 is down")
		put(t, nodes[1].p.Client(), "during-outage", data)
		want["during-outage"] = data
		nodes[3].p.Restart(t)
		waitReady(t, nodes[3].p.URL)
		checkAll(t, nodes, want, nil)
		// Written on 12 drives only (12+4): before any other node may lose its
		// drives, the scanner must have given node 4 its shards.
		waitAllHeld(t, nodes, want, 90*time.Second)
	})
	t.Run("wiped node is rebuilt by the scanner", func(t *testing.T) {
		nodes[1].p.Kill()
		for _, d := range nodes[1].drive {
			if err := os.RemoveAll(d); err != nil {
				t.Fatal(err)
			}
		}
		nodes[1].p.Restart(t)
		waitReady(t, nodes[1].p.URL)
		// Wait for the scanner to rebuild node 2's drives: then node 3 can die too
		// (the others hold every shard again) and every object still reads back.
		waitAllHeld(t, []*node{nodes[0], nodes[1], nodes[3]}, want, 90*time.Second)
		nodes[2].p.Kill()
		checkAll(t, nodes, want, map[int]bool{2: true})
	})
}
