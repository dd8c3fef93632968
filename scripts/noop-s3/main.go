// Command noop-s3 is a baseline for benchmarks: an HTTP server that accepts any
// request, reads and discards the body, and answers 200 with an ETag, so
// `cairn bench --op put` against it measures what plain Go net/http costs on this
// machine (the ceiling any Go S3 server's PUT path starts from).
//
//	go run ./scripts/noop-s3 127.0.0.1:9200
package main

import (
	"io"
	"log"
	"net/http"
	"os"
)

func main() {
	addr := "127.0.0.1:9200"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	log.Fatal(http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"00000000000000000000000000000000"`)
		if r.Method == http.MethodPost { // DeleteObjects during the load generator's cleanup
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>`)
		}
	})))
}
