package exitcontract

import (
	"cmp"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
)

func key(i int) RecordKey {
	var k RecordKey
	for b := 0; b < 8; b++ {
		k[31-b] = byte(i >> (8 * b))
	}
	return k
}

var epoch = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// checkHeap verifies the heap order and that pos indexes every entry.
func checkHeap(t *testing.T, s *Schedule) {
	t.Helper()
	if len(s.pos) != len(s.heap) {
		t.Fatalf("pos has %d entries, heap %d", len(s.pos), len(s.heap))
	}
	for i, e := range s.heap {
		if s.pos[e.Key] != int32(i) {
			t.Fatalf("pos of %s is %d, found at %d", e.Key, s.pos[e.Key], i)
		}
		if i > 0 && s.less(i, (i-1)/2) {
			t.Fatalf("entry %d is earlier than its parent", i)
		}
	}
}

// TestScheduleMatchesReference runs random operations against a map and
// checks PopDue returns exactly the due records, earliest first.
func TestScheduleMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := NewSchedule(0)
	ref := map[RecordKey]Entry{}
	now := epoch
	for step := 0; step < 20000; step++ {
		k := key(rng.IntN(500))
		switch op := rng.IntN(10); {
		case op < 6:
			due := epoch.Add(time.Duration(rng.IntN(1000)) * time.Hour)
			a := Action(1 + rng.IntN(2))
			s.Set(k, due, a)
			ref[k] = Entry{Key: k, Due: due.UnixNano(), Action: a}
		case op < 8:
			_, had := ref[k]
			if got := s.Remove(k); got != had {
				t.Fatalf("Remove(%s) = %v, want %v", k, got, had)
			}
			delete(ref, k)
		default:
			now = now.Add(time.Duration(rng.IntN(20)) * time.Hour)
			var want []Entry
			for _, e := range ref {
				if e.Due <= now.UnixNano() {
					want = append(want, e)
					delete(ref, e.Key)
				}
			}
			slices.SortFunc(want, func(a, b Entry) int {
				return cmp.Or(cmp.Compare(a.Due, b.Due), slices.Compare(a.Key[:], b.Key[:]))
			})
			got := s.PopDue(now)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: PopDue(%s) = %d entries, want %d", step, now, len(got), len(want))
			}
		}
		if s.Len() != len(ref) {
			t.Fatalf("step %d: Len %d, want %d", step, s.Len(), len(ref))
		}
		if step%500 == 0 {
			checkHeap(t, s)
		}
	}
	checkHeap(t, s)
	for k, want := range ref {
		if got, ok := s.Get(k); !ok || got != want {
			t.Fatalf("Get(%s) = %+v %v, want %+v", k, got, ok, want)
		}
	}
}

func TestScheduleSetReplacesAndPeeks(t *testing.T) {
	s := NewSchedule(4)
	a, b := key(1), key(2)
	s.Set(a, epoch.Add(3*time.Hour), ActionExit)
	s.Set(b, epoch.Add(2*time.Hour), ActionExit)
	s.Set(a, epoch.Add(time.Hour), ActionPurge) // earlier and another action
	if s.Len() != 2 {
		t.Fatalf("Len %d after replacing, want 2", s.Len())
	}
	if e, ok := s.Peek(); !ok || e.Key != a || e.Action != ActionPurge || !e.DueTime().Equal(epoch.Add(time.Hour)) {
		t.Fatalf("Peek = %+v %v", e, ok)
	}
	s.Set(a, epoch.Add(5*time.Hour), ActionExit) // later again
	if e, _ := s.Peek(); e.Key != b {
		t.Fatalf("Peek after postponing = %s, want %s", e.Key, b)
	}
	if got := s.PopDue(epoch.Add(2*time.Hour - time.Nanosecond)); len(got) != 0 {
		t.Fatalf("popped %d entries before anything was due", len(got))
	}
	if got := s.PopDue(epoch.Add(2 * time.Hour)); len(got) != 1 || got[0].Key != b {
		t.Fatalf("PopDue at b's due = %+v", got)
	}
	if _, ok := s.Get(b); ok {
		t.Fatal("popped entry still scheduled")
	}
}

func TestParseRecordKey(t *testing.T) {
	id := "00000000000000000000000000000000000000000000000000000000000000ff"
	k, err := ParseRecordKey(id)
	if err != nil || k != key(255) || k.String() != id {
		t.Fatalf("ParseRecordKey = %s, %v", k, err)
	}
	for _, bad := range []string{"", "ff", id + "00", "zz" + id[2:]} {
		if _, err := ParseRecordKey(bad); err == nil {
			t.Errorf("ParseRecordKey(%q) accepted", bad)
		}
	}
}

// TestScheduleFootprint bounds the memory a scheduled record costs, which
// sizes the service for millions of records (BenchmarkScheduleMillion
// measures 1,000,000).
func TestScheduleFootprint(t *testing.T) {
	const n = 100_000
	perEntry := footprint(n)
	t.Logf("%.1f bytes per scheduled record", perEntry)
	if perEntry > 160 {
		t.Fatalf("a scheduled record costs %.1f bytes, more than 160", perEntry)
	}
}

// footprint is the live heap per entry of a schedule of n records.
func footprint(n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := NewSchedule(n)
	for i := range n {
		s.Set(key(i), epoch.Add(time.Duration(i*7919%n)*time.Minute), ActionExit)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}
