package policy

import (
	"testing"
	"time"
)

func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func term(s string) *Duration {
	d := MustParseDuration(s)
	return &d
}

func mustCompile(t testing.TB, p *Policy) *Compiled {
	t.Helper()
	c, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func builtin(t testing.TB, id string) *Compiled {
	t.Helper()
	for _, p := range Builtins() {
		if p.ID == id {
			return mustCompile(t, p)
		}
	}
	t.Fatalf("no built-in policy %q", id)
	return nil
}

// custom makes a policy from expressions, with valid other members.
func custom(eligible, due string) *Policy {
	return &Policy{ID: "custom", Version: 1, Eligible: eligible, Due: due,
		PurgeAfter: "P1Y", Description: "test policy"}
}

func attest(kind string, when time.Time) Attestation {
	return Attestation{Kind: kind, At: when}
}

func evaluate(t testing.TB, c *Compiled, r *Record, now time.Time) Decision {
	t.Helper()
	d, err := c.Evaluate(r, now)
	if err != nil {
		t.Fatalf("Evaluate at %s: %v", now, err)
	}
	return d
}
