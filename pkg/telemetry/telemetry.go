// Package telemetry is the tracing every service shares (DESIGN 3): an
// OpenTelemetry tracer provider that exports over OTLP when an endpoint is
// configured, W3C trace context carried across NATS in message headers, and
// an slog handler that stamps log lines with the trace they belong to.
//
// A transaction's trace runs intake (one span per POST, injected into the
// TXS message) → consensus-ledger (a block span whose parent is the first
// candidate's span and which links every candidate) → the LEDGER message's
// headers → each replicator's apply span.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Prefix names every tracer of the project, so that a collector can tell
// creditchain's spans from those of its libraries.
const Prefix = "github.com/creditchain/creditchain/"

// propagator is used directly rather than through otel's global one: the
// services must carry the context across NATS whether or not a process set
// the global propagator (tests and `creditchain dev` run services without
// Setup).
var propagator = propagation.TraceContext{}

// Tracer returns the project's tracer for component (e.g. "intake"). It
// follows the global provider, so a provider installed later (Setup, or a
// test's in-memory one) takes effect for tracers obtained before.
func Tracer(component string) trace.Tracer { return otel.Tracer(Prefix + component) }

// Enabled tells whether OTLP export is configured through the standard
// OpenTelemetry environment variables.
func Enabled() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs the global tracer provider of service and the W3C
// propagator. With OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT)
// set, spans are batched and exported over OTLP/gRPC (the exporter reads
// the other OTEL_EXPORTER_OTLP_* variables itself: headers, TLS, timeout);
// otherwise the provider stays otel's no-op one, which still forwards the
// trace context so that a traced caller's trace is not cut here. The
// returned function flushes and stops the exporter; call it on exit.
func Setup(ctx context.Context, service string) (func(context.Context) error, error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	if !Enabled() {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", service)))
	if err != nil {
		// A schema clash between resource.Default and the environment
		// leaves a usable resource; exporting matters more than its schema.
		if res == nil {
			res = resource.NewSchemaless(attribute.String("service.name", service))
		}
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return func(ctx context.Context) error {
		return errors.Join(tp.ForceFlush(ctx), tp.Shutdown(ctx))
	}, nil
}

// HeaderCarrier adapts nats.Header to the propagation carrier interface.
// NATS headers are case-sensitive; the W3C keys are lower case on both
// sides because TraceContext reads and writes them that way.
type HeaderCarrier nats.Header

var _ propagation.TextMapCarrier = HeaderCarrier(nil)

// Get returns the first value of key.
func (c HeaderCarrier) Get(key string) string { return nats.Header(c).Get(key) }

// Set replaces the values of key.
func (c HeaderCarrier) Set(key, value string) { nats.Header(c).Set(key, value) }

// Keys lists the keys present.
func (c HeaderCarrier) Keys() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	return out
}

// Inject writes ctx's span context into h (traceparent, tracestate). It
// does nothing when ctx carries no valid span, so untraced messages stay
// as they were.
func Inject(ctx context.Context, h nats.Header) {
	if h == nil {
		return
	}
	propagator.Inject(ctx, HeaderCarrier(h))
}

// Extract returns ctx with the remote span context found in h, if any.
func Extract(ctx context.Context, h nats.Header) context.Context {
	if h == nil {
		return ctx
	}
	return propagator.Extract(ctx, HeaderCarrier(h))
}

// SpanContext is the remote span context carried by h (invalid if none).
func SpanContext(h nats.Header) trace.SpanContext {
	return trace.SpanContextFromContext(Extract(context.Background(), h))
}

// StartLinked starts a span that belongs to the trace of the first valid
// parent and links every valid one. A block gathers many transactions,
// each with its own trace: the first becomes the block's parent, so that a
// lone transaction's trace runs through the block without a hop, and the
// links let every other transaction's trace reach it.
func StartLinked(ctx context.Context, tr trace.Tracer, name string, parents []trace.SpanContext, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	var links []trace.Link
	first := true
	for _, sc := range parents {
		if !sc.IsValid() {
			continue
		}
		if first {
			ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
			first = false
		}
		links = append(links, trace.Link{SpanContext: sc})
	}
	if len(links) > 0 {
		opts = append(opts, trace.WithLinks(links...))
	}
	return tr.Start(ctx, name, opts...)
}
