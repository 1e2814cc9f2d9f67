package policy

import (
	"sync"
	"testing"
)

// A compiled policy is shared by every goroutine of a node.
func TestEvaluateConcurrently(t *testing.T) {
	c := builtin(t, SeriousDishonesty)
	start := at(t, "2026-01-05T00:00:00Z")
	want := evaluate(t, c, typicalRecord(0), start.AddDate(1, 0, 0))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				d, err := c.Evaluate(typicalRecord(0), start.AddDate(1, 0, 0))
				if err != nil {
					errs <- err
					return
				}
				if d != want {
					t.Errorf("concurrent evaluation %+v, want %+v", d, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
