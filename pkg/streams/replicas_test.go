package streams

import (
	"context"
	"testing"
)

func TestReplicasFromEnv(t *testing.T) {
	for _, c := range []struct {
		env  string
		want int
		ok   bool
	}{{"", 1, true}, {"3", 3, true}, {"5", 5, true}, {"0", 0, false}, {"6", 0, false}, {"three", 0, false}} {
		t.Setenv(ReplicasEnv, c.env)
		n, err := replicasFromEnv()
		if (err == nil) != c.ok || n != c.want {
			t.Errorf("%s=%q: got %d, %v; want %d (ok %v)", ReplicasEnv, c.env, n, err, c.want, c.ok)
		}
	}
}

// A bad setting stops Ensure before it touches JetStream (a nil
// JetStream would panic if it got that far).
func TestEnsureRefusesBadReplicas(t *testing.T) {
	t.Setenv(ReplicasEnv, "7")
	if err := Ensure(context.Background(), nil, Options{}); err == nil {
		t.Fatal("Ensure accepted 7 replicas")
	}
}
