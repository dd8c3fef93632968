package provider

import "testing"

func TestNewValidators(t *testing.T) {
	for _, c := range []struct {
		name  string
		check func(string) string
		in    string
		ok    bool
	}{
		{"kms key", kmsKeyIDProblem, "tenant-key", true},
		{"kms key arn", kmsKeyIDProblem, "arn:aws:kms:us-east-1:111122223333:alias/billing", true},
		{"kms key vault path", kmsKeyIDProblem, "team/billing_v2.1", true},
		{"kms key empty", kmsKeyIDProblem, "", false},
		{"kms key space", kmsKeyIDProblem, "my key", false},
		{"tier", tierNameProblem, "COLD-2_A", true},
		{"tier lower", tierNameProblem, "cold", false},
		{"tier digit first", tierNameProblem, "2COLD", false},
		{"tier too long", tierNameProblem, "A" + string(make([]byte, 64)), false},
		{"date", lifecycleDateProblem, "2030-01-31T00:00:00Z", true},
		{"date offset midnight UTC", lifecycleDateProblem, "2030-01-31T02:00:00+02:00", true},
		{"date noon", lifecycleDateProblem, "2030-01-31T12:00:00Z", false},
		{"date only", lifecycleDateProblem, "2030-01-31", false},
		{"duration", durationProblem, "90m", true},
		{"duration zero", durationProblem, "0s", false},
		{"duration word", durationProblem, "soon", false},
	} {
		if got := c.check(c.in); (got == "") != c.ok {
			t.Errorf("%s: %q → %q, want ok=%v", c.name, c.in, got, c.ok)
		}
	}
}
