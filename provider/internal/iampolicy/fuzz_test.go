package iampolicy_test

import (
	"bytes"
	"testing"

	"github.com/cairn-io/cairn/provider/internal/iampolicy"
)

// FuzzNormalize checks that Parse never panics and that normalizing is idempotent
// and preserves equivalence.
func FuzzNormalize(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte(`{"Statement":{"Effect":"Deny","NotAction":"s3:*","NotResource":["a","a"],"NotPrincipal":{"AWS":"x"}}}`))
	f.Add([]byte(`{"Statement":[{"Effect":"Allow","Action":"s3:*","Condition":{"NumericLessThan":{"s3:max-keys":[10, 2.5]}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := iampolicy.Normalize(b)
		if err != nil {
			return
		}
		n2, err := iampolicy.Normalize(n)
		if err != nil {
			t.Fatalf("normalized form does not parse: %v\n%s", err, n)
		}
		if !bytes.Equal(n, n2) {
			t.Fatalf("Normalize not idempotent:\n%s\n%s", n, n2)
		}
		if eq, err := iampolicy.Equivalent(b, n); err != nil || !eq {
			t.Fatalf("document not equivalent to its normal form: %v %v", eq, err)
		}
	})
}
