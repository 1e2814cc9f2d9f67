package harness

import (
	"context"
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if os.Getenv(orphanChildEnv) != "" {
		orphanChild()
	}
	os.Exit(RunTests(m))
}

const orphanChildEnv = "HARNESS_TEST_ORPHAN_CHILD"

// orphanChild is the test binary re-executed by TestNoOrphanPostgres: it
// starts a cluster, reports it, and waits to be killed without any cleanup.
func orphanChild() {
	pg, err := StartPostgres(context.Background(), PostgresOptions{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println(pg.PID(), pg.DataDir())
	select {}
}
