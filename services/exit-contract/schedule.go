package exitcontract

import (
	"encoding/hex"
	"fmt"
	"time"
)

// Action is what the exit-contract will submit for a record when it falls due.
type Action uint8

const (
	// ActionExit submits record.exit for an active record.
	ActionExit Action = iota + 1
	// ActionPurge submits record.purge for an exited or revoked record.
	ActionPurge
)

func (a Action) String() string {
	switch a {
	case ActionExit:
		return "exit"
	case ActionPurge:
		return "purge"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// RecordKey is a record id (the hex tx id of its record.create) in binary:
// half the bytes of the hex string and no pointer for the garbage collector
// to trace, which matters with millions of scheduled records.
type RecordKey [32]byte

// ParseRecordKey decodes a 64-character lowercase hex record id.
func ParseRecordKey(id string) (RecordKey, error) {
	var k RecordKey
	if len(id) != 2*len(k) {
		return k, fmt.Errorf("record id %q: want %d hex characters", id, 2*len(k))
	}
	if _, err := hex.Decode(k[:], []byte(id)); err != nil {
		return k, fmt.Errorf("record id %q: %w", id, err)
	}
	return k, nil
}

func (k RecordKey) String() string { return hex.EncodeToString(k[:]) }

// Entry is one scheduled record: the earliest block time at which Action
// may become possible.
type Entry struct {
	Key    RecordKey
	Due    int64 // Unix nanoseconds; int64 rather than time.Time keeps the entry pointer-free and small
	Action Action
}

// DueTime returns Due as a time in UTC.
func (e Entry) DueTime() time.Time { return time.Unix(0, e.Due).UTC() }

// Schedule is a min-heap of entries ordered by due time, with at most one
// entry per record. Set, Remove and PopDue are O(log n); nothing scans it.
// It is not safe for concurrent use.
type Schedule struct {
	heap []Entry
	// pos is each record's index in heap. Both key and value are free of
	// pointers, so the garbage collector never scans the map.
	pos map[RecordKey]int32
}

// NewSchedule returns an empty schedule with room for sizeHint entries.
func NewSchedule(sizeHint int) *Schedule {
	return &Schedule{heap: make([]Entry, 0, sizeHint), pos: make(map[RecordKey]int32, sizeHint)}
}

// Len is the number of scheduled records.
func (s *Schedule) Len() int { return len(s.heap) }

// Set schedules k for action a at due, replacing any entry k had.
func (s *Schedule) Set(k RecordKey, due time.Time, a Action) {
	e := Entry{Key: k, Due: due.UnixNano(), Action: a}
	if i, ok := s.pos[k]; ok {
		old := s.heap[i].Due
		s.heap[i] = e
		if e.Due < old {
			s.up(int(i))
		} else {
			s.down(int(i))
		}
		return
	}
	s.heap = append(s.heap, e)
	s.pos[k] = int32(len(s.heap) - 1)
	s.up(len(s.heap) - 1)
}

// Get returns k's entry.
func (s *Schedule) Get(k RecordKey) (Entry, bool) {
	i, ok := s.pos[k]
	if !ok {
		return Entry{}, false
	}
	return s.heap[i], true
}

// Remove unschedules k; it reports whether k was scheduled.
func (s *Schedule) Remove(k RecordKey) bool {
	i, ok := s.pos[k]
	if !ok {
		return false
	}
	s.removeAt(int(i))
	return true
}

// Peek returns the earliest entry.
func (s *Schedule) Peek() (Entry, bool) {
	if len(s.heap) == 0 {
		return Entry{}, false
	}
	return s.heap[0], true
}

// PopDue removes and returns every entry due at or before t, earliest first.
func (s *Schedule) PopDue(t time.Time) []Entry {
	var out []Entry
	limit := t.UnixNano()
	for len(s.heap) > 0 && s.heap[0].Due <= limit {
		out = append(out, s.heap[0])
		s.removeAt(0)
	}
	return out
}

func (s *Schedule) removeAt(i int) {
	last := len(s.heap) - 1
	delete(s.pos, s.heap[i].Key)
	if i != last {
		s.heap[i] = s.heap[last]
		s.pos[s.heap[i].Key] = int32(i)
	}
	s.heap = s.heap[:last]
	if i < last && !s.down(i) {
		s.up(i)
	}
}

func (s *Schedule) less(i, j int) bool {
	if s.heap[i].Due != s.heap[j].Due {
		return s.heap[i].Due < s.heap[j].Due
	}
	// A total order makes PopDue's output deterministic for equal due times.
	return string(s.heap[i].Key[:]) < string(s.heap[j].Key[:])
}

func (s *Schedule) swap(i, j int) {
	s.heap[i], s.heap[j] = s.heap[j], s.heap[i]
	s.pos[s.heap[i].Key] = int32(i)
	s.pos[s.heap[j].Key] = int32(j)
}

func (s *Schedule) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			return
		}
		s.swap(i, p)
		i = p
	}
}

// down sifts entry i towards the leaves and reports whether it moved.
func (s *Schedule) down(i int) bool {
	n, start := len(s.heap), i
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s.swap(i, m)
		i = m
	}
	return i > start
}
