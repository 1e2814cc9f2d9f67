package helmtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// parseNATSConfig loads a rendered nats.conf as the first server of the
// StatefulSet would ($POD_NAME set), with the server's own parser: a
// setting it does not know or a value it cannot read fails here.
func parseNATSConfig(t *testing.T, conf string) *server.Options {
	t.Helper()
	if conf == "" {
		t.Fatal("empty nats.conf")
	}
	t.Setenv("POD_NAME", "cc-creditchain-nats-0")
	path := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("nats.conf: %v\n%s", err, conf)
	}
	return opts
}
