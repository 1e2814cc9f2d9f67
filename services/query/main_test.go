package query

import (
	"os"
	"testing"

	"github.com/creditchain/creditchain/pkg/harness"
)

// TestMain lets the scale benchmark start PostgreSQL through the shared
// harness; unit tests start no server.
func TestMain(m *testing.M) { os.Exit(harness.RunTests(m)) }
