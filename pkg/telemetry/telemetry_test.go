package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func testProvider(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

func TestHeaderRoundTrip(t *testing.T) {
	tp, _ := testProvider(t)
	ctx, span := tp.Tracer("t").Start(context.Background(), "send")
	defer span.End()
	h := nats.Header{}
	Inject(ctx, h)
	if got := h.Get("traceparent"); len(got) != 55 {
		t.Fatalf("traceparent = %q, want a 55-character W3C value", got)
	}
	sc := SpanContext(h)
	if !sc.IsRemote() || sc.TraceID() != span.SpanContext().TraceID() || sc.SpanID() != span.SpanContext().SpanID() {
		t.Fatalf("extracted %v, want the sender's span %v", sc, span.SpanContext())
	}
	// A child started from the extracted context joins the sender's trace.
	_, child := tp.Tracer("t").Start(Extract(context.Background(), h), "receive")
	defer child.End()
	if child.SpanContext().TraceID() != span.SpanContext().TraceID() {
		t.Fatal("receiver's span is not in the sender's trace")
	}
}

func TestInjectWithoutSpanLeavesHeadersAlone(t *testing.T) {
	h := nats.Header{}
	Inject(context.Background(), h)
	if len(h) != 0 {
		t.Fatalf("headers %v written without a span", h)
	}
	if SpanContext(h).IsValid() || SpanContext(nil).IsValid() {
		t.Fatal("a span context came out of empty headers")
	}
	Inject(context.Background(), nil) // must not panic
}

func TestHeaderCarrierKeys(t *testing.T) {
	c := HeaderCarrier(nats.Header{})
	c.Set("traceparent", "a")
	c.Set("tracestate", "b")
	c.Set("traceparent", "c")
	if c.Get("traceparent") != "c" || len(c.Keys()) != 2 {
		t.Fatalf("carrier = %v, keys %v", c, c.Keys())
	}
}

func TestStartLinked(t *testing.T) {
	tp, exp := testProvider(t)
	tr := tp.Tracer("t")
	_, a := tr.Start(context.Background(), "tx a")
	_, b := tr.Start(context.Background(), "tx b")
	a.End()
	b.End()
	parents := []trace.SpanContext{{}, a.SpanContext(), b.SpanContext()}
	_, blk := StartLinked(context.Background(), tr, "block", parents)
	blk.End()
	var got sdktrace.ReadOnlySpan
	for _, s := range exp.GetSpans().Snapshots() {
		if s.Name() == "block" {
			got = s
		}
	}
	if got == nil {
		t.Fatal("no block span exported")
	}
	if got.Parent().SpanID() != a.SpanContext().SpanID() || got.SpanContext().TraceID() != a.SpanContext().TraceID() {
		t.Fatalf("block parent %v, want the first valid candidate %v", got.Parent(), a.SpanContext())
	}
	if len(got.Links()) != 2 || got.Links()[1].SpanContext.SpanID() != b.SpanContext().SpanID() {
		t.Fatalf("block links %v, want both candidates", got.Links())
	}

	_, root := StartLinked(context.Background(), tr, "empty block", nil)
	root.End()
	if s := exp.GetSpans().Snapshots(); s[len(s)-1].Parent().IsValid() || len(s[len(s)-1].Links()) != 0 {
		t.Fatal("a block without traced candidates must be a root span without links")
	}
}

func TestLogHandlerAddsTraceIDs(t *testing.T) {
	tp, _ := testProvider(t)
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("service", "t")
	ctx, span := tp.Tracer("t").Start(context.Background(), "op")
	log.InfoContext(ctx, "traced")
	span.End()
	log.Info("untraced")
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("got %d log lines", len(lines))
	}
	var traced, untraced map[string]any
	if err := json.Unmarshal(lines[0], &traced); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(lines[1], &untraced); err != nil {
		t.Fatal(err)
	}
	if traced["trace_id"] != span.SpanContext().TraceID().String() || traced["span_id"] != span.SpanContext().SpanID().String() || traced["service"] != "t" {
		t.Fatalf("traced line %v lacks the span's ids", traced)
	}
	if _, ok := untraced["trace_id"]; ok {
		t.Fatalf("untraced line %v has a trace id", untraced)
	}
}

func TestSetup(t *testing.T) {
	prev := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	stop, err := Setup(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); ok {
		t.Fatal("an exporting provider was installed without an endpoint")
	}
	if err := stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The exporter connects lazily: an endpoint nobody listens on is
	// enough to see the provider installed, and shutting down with no
	// span recorded sends nothing.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	stop, err = Setup(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); !ok {
		t.Fatalf("provider %T, want the SDK's with an endpoint set", otel.GetTracerProvider())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		t.Fatal(err)
	}
}
