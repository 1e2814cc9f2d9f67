package merklelog

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/transparency-dev/merkle"
	"github.com/transparency-dev/merkle/testonly"
	"pgregory.net/rapid"

	"github.com/creditchain/creditchain/pkg/suite"
)

// hashers returns the tree hashers of both suites.
func hashers(t testing.TB) map[string]merkle.LogHasher {
	t.Helper()
	out := map[string]merkle.LogHasher{}
	for _, name := range []string{suite.Ed25519, suite.SM2} {
		s, err := suite.ByName(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = NewHasher(s)
	}
	return out
}

func leaf(i uint64) []byte { return fmt.Appendf(nil, "leaf-%d", i) }

// built is a log grown in random batches, with its root at every size.
type built struct {
	log   *Log
	store *MemoryStore
	roots [][]byte // roots[n] = root of the first n leaves
	data  [][]byte
}

// tester is what the checks need from *testing.T and *rapid.T.
type tester interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// build grows a log to size leaves in randomly sized batches.
func build(t *rapid.T, h merkle.LogHasher, size uint64) built {
	return buildWith(t, h, size, func(left uint64) uint64 {
		return rapid.Uint64Range(1, left).Draw(t, "batch")
	})
}

func buildWith(t tester, h merkle.LogHasher, size uint64, batchSize func(left uint64) uint64) built {
	t.Helper()
	b := built{log: NewLog(h), store: NewMemoryStore()}
	root, err := b.log.Root()
	if err != nil {
		t.Fatal(err)
	}
	b.roots = append(b.roots, root)
	for b.log.Size() < size {
		n := batchSize(size - b.log.Size())
		var batch [][]byte
		for i := range n {
			batch = append(batch, leaf(b.log.Size()+i))
		}
		// Record the intermediate roots by appending one at a time to a
		// clone: the batch append must reach the same state.
		c := b.log.Clone()
		for _, l := range batch {
			if _, err := c.Append([][]byte{l}); err != nil {
				t.Fatal(err)
			}
			r, err := c.Root()
			if err != nil {
				t.Fatal(err)
			}
			b.roots = append(b.roots, r)
		}
		nodes, err := b.log.Append(batch)
		if err != nil {
			t.Fatal(err)
		}
		b.store.Put(nodes)
		b.data = append(b.data, batch...)
		got, _ := b.log.Root()
		want, _ := c.Root()
		if !bytes.Equal(got, want) {
			t.Fatalf("batch append root %x, one-by-one %x", got, want)
		}
	}
	return b
}

func TestRootMatchesReference(t *testing.T) {
	// testonly.Tree is the library's reference implementation of RFC 6962.
	for name, h := range hashers(t) {
		t.Run(name, func(t *testing.T) {
			ref := testonly.New(h)
			l := NewLog(h)
			var leaves [][]byte
			for i := range uint64(300) {
				got, err := l.Root()
				if err != nil {
					t.Fatal(err)
				}
				if want := ref.Hash(); !bytes.Equal(got, want) {
					t.Fatalf("size %d: root %x, reference %x", i, got, want)
				}
				if want := Root(h, leaves); !bytes.Equal(got, want) {
					t.Fatalf("size %d: Log root %x, Root() %x", i, got, want)
				}
				ref.AppendData(leaf(i))
				leaves = append(leaves, leaf(i))
				if _, err := l.Append([][]byte{leaf(i)}); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestEmptyRoot(t *testing.T) {
	for name, h := range hashers(t) {
		s, _ := suite.ByName(name)
		if got := Root(h, nil); !bytes.Equal(got, s.Hash(nil)) {
			t.Errorf("%s: empty root %x, want hash(\"\") %x", name, got, s.Hash(nil))
		}
	}
}

func TestSM3HasherMatchesSuiteConstruction(t *testing.T) {
	s, _ := suite.ByName(suite.SM2)
	fast, slow := NewHasher(s), suiteHasher{s: s}
	if !bytes.Equal(fast.HashLeaf([]byte("x")), slow.HashLeaf([]byte("x"))) ||
		!bytes.Equal(fast.HashChildren([]byte("l"), []byte("r")), slow.HashChildren([]byte("l"), []byte("r"))) ||
		!bytes.Equal(fast.EmptyRoot(), slow.EmptyRoot()) || fast.Size() != slow.Size() {
		t.Fatal("streaming SM3 hasher differs from the suite's hash")
	}
}

func TestProofsVerifyProperty(t *testing.T) {
	for name, h := range hashers(t) {
		t.Run(name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				size := rapid.Uint64Range(1, 3000).Draw(t, "size")
				b := build(t, h, size)
				ctx := context.Background()
				for range 8 {
					treeSize := rapid.Uint64Range(1, size).Draw(t, "treeSize")
					index := rapid.Uint64Range(0, treeSize-1).Draw(t, "index")
					checkInclusion(t, ctx, h, b, index, treeSize, oneOf(t))
					size1 := rapid.Uint64Range(0, treeSize).Draw(t, "size1")
					checkConsistency(t, ctx, h, b, size1, treeSize, oneOf(t))
				}
			})
		})
	}
}

// TestProofsExhaustive covers every (index, size) and (size1, size2) pair of
// small trees, where the odd shapes are.
func TestProofsExhaustive(t *testing.T) {
	h := hashers(t)[suite.Ed25519]
	// Batches of 1, 2, 3, ... leaves.
	next := uint64(0)
	b := buildWith(t, h, 70, func(left uint64) uint64 { next++; return min(next, left) })
	ctx := context.Background()
	for size := uint64(1); size <= 70; size++ {
		for i := range size {
			checkInclusion(t, ctx, h, b, i, size, every)
		}
		for s1 := range size + 1 {
			checkConsistency(t, ctx, h, b, s1, size, every)
		}
	}
}

// oneOf flips one random element of a proof.
func oneOf(t *rapid.T) func(n int) []int {
	return func(n int) []int { return []int{rapid.IntRange(0, n-1).Draw(t, "element")} }
}

// every flips each element of a proof in turn.
func every(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func checkInclusion(t tester, ctx context.Context, h merkle.LogHasher, b built, index, size uint64, elems func(n int) []int) {
	t.Helper()
	p, err := ProveInclusion(ctx, b.store, h, index, size)
	if err != nil {
		t.Fatalf("prove inclusion %d in %d: %v", index, size, err)
	}
	lh := h.HashLeaf(b.data[index])
	if err := VerifyInclusion(h, index, size, lh, p, b.roots[size]); err != nil {
		t.Fatalf("verify inclusion %d in %d: %v", index, size, err)
	}
	// The contract form verifies from the leaf data.
	cp := NewInclusionProof("tx", index, size, b.roots[size], p)
	if err := cp.Verify(h, b.data[index]); err != nil {
		t.Fatalf("contract inclusion %d in %d: %v", index, size, err)
	}
	if err := cp.Verify(h, append(bytes.Clone(b.data[index]), 'x')); err == nil {
		t.Fatalf("inclusion %d in %d verified a changed leaf", index, size)
	}
	if index+1 < size {
		if err := VerifyInclusion(h, index+1, size, lh, p, b.roots[size]); err == nil {
			t.Fatalf("inclusion %d in %d verified at the wrong index", index, size)
		}
	}
	if len(p) > 0 {
		for _, k := range elems(len(p)) {
			if err := VerifyInclusion(h, index, size, lh, flip(p, k), b.roots[size]); err == nil {
				t.Fatalf("inclusion %d in %d verified with element %d changed", index, size, k)
			}
		}
	}
}

func checkConsistency(t tester, ctx context.Context, h merkle.LogHasher, b built, size1, size2 uint64, elems func(n int) []int) {
	t.Helper()
	p, err := ProveConsistency(ctx, b.store, h, size1, size2)
	if err != nil {
		t.Fatalf("prove consistency %d to %d: %v", size1, size2, err)
	}
	if err := VerifyConsistency(h, size1, size2, p, b.roots[size1], b.roots[size2]); err != nil {
		t.Fatalf("verify consistency %d to %d: %v", size1, size2, err)
	}
	cp := NewConsistencyProof(size1, size2, b.roots[size1], b.roots[size2], p)
	if err := cp.Verify(h); err != nil {
		t.Fatalf("contract consistency %d to %d: %v", size1, size2, err)
	}
	if len(p) > 0 {
		for _, k := range elems(len(p)) {
			if err := VerifyConsistency(h, size1, size2, flip(p, k), b.roots[size1], b.roots[size2]); err == nil {
				t.Fatalf("consistency %d to %d verified with element %d changed", size1, size2, k)
			}
		}
	}
	if size1 > 0 && size1 < size2 {
		// A different old root (a rewritten history) must not verify.
		other := b.roots[size1-1]
		if err := VerifyConsistency(h, size1, size2, p, other, b.roots[size2]); err == nil {
			t.Fatalf("consistency %d to %d verified with a wrong old root", size1, size2)
		}
	}
}

func flip(p [][]byte, k int) [][]byte {
	out := make([][]byte, len(p))
	copy(out, p)
	out[k] = bytes.Clone(p[k])
	out[k][0] ^= 1
	return out
}

func TestRestoreContinuesProperty(t *testing.T) {
	for name, h := range hashers(t) {
		t.Run(name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				first := rapid.Uint64Range(0, 2000).Draw(t, "first")
				more := rapid.Uint64Range(0, 1000).Draw(t, "more")
				whole := NewLog(h)
				var all [][]byte
				for i := range first + more {
					all = append(all, leaf(i))
				}
				if _, err := whole.Append(all); err != nil {
					t.Fatal(err)
				}
				part := NewLog(h)
				if _, err := part.Append(all[:first]); err != nil {
					t.Fatal(err)
				}
				restored, err := RestoreLog(h, part.Size(), part.Frontier())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := restored.Append(all[first:]); err != nil {
					t.Fatal(err)
				}
				got, _ := restored.Root()
				want, _ := whole.Root()
				if restored.Size() != whole.Size() || !bytes.Equal(got, want) {
					t.Fatalf("restored at %d then +%d: root %x, built at once %x", first, more, got, want)
				}
			})
		})
	}
}

func TestRestoreRejectsBadFrontier(t *testing.T) {
	h := hashers(t)[suite.Ed25519]
	l := NewLog(h)
	if _, err := l.Append([][]byte{leaf(0), leaf(1), leaf(2)}); err != nil {
		t.Fatal(err)
	}
	f := l.Frontier()
	if _, err := RestoreLog(h, 4, f); err == nil {
		t.Error("restored size 4 from the frontier of size 3")
	}
	if _, err := RestoreLog(h, 3, f[:1]); err == nil {
		t.Error("restored from a short frontier")
	}
	f[0] = f[0][:5]
	if _, err := RestoreLog(h, 3, f); err == nil {
		t.Error("restored from a truncated hash")
	}
}

func TestCloneIsIndependent(t *testing.T) {
	h := hashers(t)[suite.Ed25519]
	l := NewLog(h)
	if _, err := l.Append([][]byte{leaf(0), leaf(1), leaf(2)}); err != nil {
		t.Fatal(err)
	}
	before, _ := l.Root()
	c := l.Clone()
	if _, err := c.Append([][]byte{leaf(3)}); err != nil {
		t.Fatal(err)
	}
	after, _ := l.Root()
	if l.Size() != 3 || !bytes.Equal(before, after) {
		t.Fatal("appending to a clone changed the original")
	}
}

func TestAppendReturnsEveryNode(t *testing.T) {
	// After n leaves the store holds every perfect subtree: 2n - popcount(n).
	h := hashers(t)[suite.Ed25519]
	l, st := NewLog(h), NewMemoryStore()
	for n := uint64(1); n <= 100; n++ {
		nodes, err := l.Append([][]byte{leaf(n - 1)})
		if err != nil {
			t.Fatal(err)
		}
		st.Put(nodes)
		ones := 0
		for x := n; x > 0; x &= x - 1 {
			ones++
		}
		if got, want := st.Len(), int(2*n)-ones; got != want {
			t.Fatalf("size %d: %d nodes stored, want %d", n, got, want)
		}
	}
}

func TestMissingNodeIsAnError(t *testing.T) {
	h := hashers(t)[suite.Ed25519]
	if _, err := ProveInclusion(context.Background(), NewMemoryStore(), h, 1, 5); err == nil {
		t.Fatal("proof from an empty store")
	}
	if _, err := ProveInclusion(context.Background(), NewMemoryStore(), h, 5, 5); err == nil {
		t.Fatal("proof of an index beyond the tree")
	}
	if _, err := ProveConsistency(context.Background(), NewMemoryStore(), h, 6, 5); err == nil {
		t.Fatal("consistency proof with from > to")
	}
}

func TestContractJSON(t *testing.T) {
	h := hashers(t)[suite.Ed25519]
	root := Root(h, [][]byte{[]byte("a")})
	p := NewInclusionProof("ab", 0, 1, root, nil)
	b, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"tx_id":"ab","leaf_index":0,"tree_size":1,"root":"%x","proof":[]}`, root)
	if string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
	if err := p.Verify(h, []byte("a")); err != nil {
		t.Fatal(err)
	}
	upper := p
	upper.Root = fmt.Sprintf("%X", root)
	if err := upper.Verify(h, []byte("a")); err == nil {
		t.Fatal("uppercase hex root accepted")
	}
	c := ConsistencyProof{From: 0, To: 1, FromRoot: fmt.Sprintf("%x", h.EmptyRoot()), ToRoot: p.Root}
	b, _ = c.MarshalJSON()
	if !bytes.Contains(b, []byte(`"proof":[]`)) {
		t.Fatalf("empty consistency proof marshals as %s", b)
	}
	if err := c.Verify(h); err != nil {
		t.Fatal(err)
	}
	c.FromRoot = p.Root
	if err := c.Verify(h); err == nil {
		t.Fatal("size 0 with a non-empty root accepted")
	}
}
