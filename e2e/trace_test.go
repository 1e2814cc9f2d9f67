package e2e

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/membership"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestTraceIntakeToReplicas follows one transaction's trace from intake's
// POST span through the consensus leader's block span (carried in the TXS
// headers) to every replica's apply span and every other recorder's apply
// span (carried in the LEDGER headers).
//
// The services' tracers are package variables that follow otel's global
// provider; the first provider installed in a process stays their delegate,
// so this is the one test of the binary that installs one.
func TestTraceIntakeToReplicas(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() {
		otel.SetTracerProvider(prev)
		_ = tp.Shutdown(context.Background())
	})

	n := startNetwork(t, devnet.Options{})
	courtS := newSigner(n, court)
	start := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	env, id := courtS.sign(t, "record.create", recordCreate(orgCode(t, 901), "court-defaulter", "court-defaulter", start, "P2Y"))
	if r := submit(t, n, env, nil); r.Status != 202 {
		t.Fatalf("submit: %d %s", r.Status, r.Raw)
	}
	r := waitStatus(t, n, id, 30*time.Second)
	if r.Body["status"] != "committed" {
		t.Fatalf("not committed: %s", r.Raw)
	}
	height := int64(r.Body["height"].(float64))

	var institutions, recorders []string
	for _, in := range n.Institutions {
		institutions = append(institutions, in.Member.ID)
		if in.Member.HasRole(membership.RoleRecorder) {
			recorders = append(recorders, in.Member.ID)
		}
	}
	sort.Strings(institutions)

	// The replicas apply the block on their own time: wait for all of them.
	var submitSpan, blockSpan sdktrace.ReadOnlySpan
	var replicaSpans, followerSpans []sdktrace.ReadOnlySpan
	deadline := time.Now().Add(30 * time.Second)
	for {
		submitSpan, blockSpan, replicaSpans, followerSpans = nil, nil, nil, nil
		for _, s := range exp.GetSpans().Snapshots() {
			switch s.Name() {
			case "intake.submit":
				if attr(s, "creditchain.tx_id") == id {
					if submitSpan != nil {
						t.Fatal("two intake spans for one POST")
					}
					submitSpan = s
				}
			case "consensus.block":
				if attr(s, "creditchain.height") == height && s.Status().Code != codes.Error {
					blockSpan = s
				}
			}
		}
		if submitSpan != nil && blockSpan != nil {
			for _, s := range exp.GetSpans().Snapshots() {
				if s.Parent().SpanID() != blockSpan.SpanContext().SpanID() {
					continue
				}
				switch s.Name() {
				case "replicator.apply":
					replicaSpans = append(replicaSpans, s)
				case "consensus.apply":
					// The leader applied its block itself, unless it fell
					// behind; the others' spans are what is asked for.
					if attr(s, "creditchain.institution") != attr(blockSpan, "creditchain.institution") {
						followerSpans = append(followerSpans, s)
					}
				}
			}
		}
		if len(replicaSpans) >= len(institutions) && len(followerSpans) >= len(recorders)-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s: intake span %v, block span %v, %d replica spans of %d, %d follower spans of %d",
				submitSpan != nil, blockSpan != nil, len(replicaSpans), len(institutions), len(followerSpans), len(recorders)-1)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// intake → consensus: the block continues the transaction's trace (it
	// was the only candidate on an idle network) and links it.
	traceID := submitSpan.SpanContext().TraceID()
	if submitSpan.SpanKind() != trace.SpanKindServer || submitSpan.Parent().IsValid() {
		t.Fatalf("intake span: kind %v, parent %v; want a server root span", submitSpan.SpanKind(), submitSpan.Parent())
	}
	if blockSpan.SpanContext().TraceID() != traceID || blockSpan.Parent().SpanID() != submitSpan.SpanContext().SpanID() {
		t.Fatalf("block span in trace %s under %s; want trace %s under intake's span %s", blockSpan.SpanContext().TraceID(),
			blockSpan.Parent().SpanID(), traceID, submitSpan.SpanContext().SpanID())
	}
	linked := false
	for _, l := range blockSpan.Links() {
		linked = linked || l.SpanContext.SpanID() == submitSpan.SpanContext().SpanID()
	}
	if !linked {
		t.Fatalf("block span links %v, not the transaction's span", blockSpan.Links())
	}
	if blockSpan.StartTime().Before(submitSpan.StartTime()) {
		t.Fatal("block span starts before the transaction was submitted")
	}

	// consensus → replicators: one apply span per institution, all in the
	// transaction's trace, each having applied this height.
	var got []string
	for _, s := range replicaSpans {
		if s.SpanContext().TraceID() != traceID || s.SpanKind() != trace.SpanKindConsumer {
			t.Fatalf("replica span %s: trace %s kind %v", attr(s, "creditchain.institution"), s.SpanContext().TraceID(), s.SpanKind())
		}
		if attr(s, "creditchain.stream_seq") != height || s.Status().Code == codes.Error {
			t.Fatalf("replica span %s: seq %v status %v; want height %d applied", attr(s, "creditchain.institution"),
				attr(s, "creditchain.stream_seq"), s.Status(), height)
		}
		got = append(got, attr(s, "creditchain.institution").(string))
	}
	sort.Strings(got)
	if len(got) != len(institutions) {
		t.Fatalf("replica spans for %v, want one for each of %v", got, institutions)
	}
	for i := range got {
		if got[i] != institutions[i] {
			t.Fatalf("replica spans for %v, want one for each of %v", got, institutions)
		}
	}
	// The other recorders apply the leader's block in the same trace.
	followers := map[any]bool{}
	for _, s := range followerSpans {
		if s.SpanContext().TraceID() != traceID || s.Status().Code == codes.Error {
			t.Fatalf("follower span of %v: trace %s status %v", attr(s, "creditchain.institution"), s.SpanContext().TraceID(), s.Status())
		}
		followers[attr(s, "creditchain.institution")] = true
	}
	if len(followers) != len(recorders)-1 {
		t.Fatalf("apply spans from recorders %v, want the %d recorders other than leader %v", followers, len(recorders)-1, attr(blockSpan, "creditchain.institution"))
	}
}

// attr returns a span attribute's value (strings as string, ints as int64).
func attr(s sdktrace.ReadOnlySpan, key attribute.Key) any {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value.AsInterface()
		}
	}
	return nil
}
