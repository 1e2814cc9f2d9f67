package intake

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var metricRequests = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "creditchain_intake_requests_total", Help: "Intake requests by route and status.",
}, []string{"route", "status"})

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// counted counts requests by status; the route is a fixed label so that
// clients cannot grow the metric's cardinality with arbitrary paths.
func counted(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h(rec, r)
		metricRequests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
	}
}
