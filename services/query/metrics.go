package query

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	metricRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "creditchain_query_requests_total", Help: "Query API requests by route and status (429: rate or quota).",
	}, []string{"route", "status"})
	metricSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "creditchain_query_request_seconds", Help: "Query API latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms .. 4 s
	}, []string{"route"})
)

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// measured counts every request by its route pattern, never its path, so
// that clients cannot grow the metrics' cardinality with made-up paths.
func measured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		metricRequests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		metricSeconds.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}
