package query

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetricsLabelRoutesNotPaths checks requests are counted under their
// route pattern, so made-up paths cannot grow the metrics without bound.
// Only routes that need no database are exercised.
func TestMetricsLabelRoutesNotPaths(t *testing.T) {
	h := New(&pgstore.Store{}, Config{}).Handler()
	count := func(route, status string) float64 {
		return testutil.ToFloat64(metricRequests.WithLabelValues(route, status))
	}
	before := map[string]float64{
		"health": count("/healthz", "200"), "cert": count("/v1/certificates/{cert_no}", "404"), "none": count("unmatched", "404"),
	}
	for _, p := range []string{"/healthz", "/v1/certificates/A-1", "/v1/certificates/B-2.pdf", "/no/such/path", "/another/one"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p, nil))
	}
	if d := count("/healthz", "200") - before["health"]; d != 1 {
		t.Errorf("/healthz counted %v times, want 1", d)
	}
	if d := count("/v1/certificates/{cert_no}", "404") - before["cert"]; d != 2 {
		t.Errorf("certificate route counted %v times, want 2", d)
	}
	if d := count("unmatched", "404") - before["none"]; d != 2 {
		t.Errorf("unmatched paths counted %v times, want 2", d)
	}
	if n := testutil.CollectAndCount(metricRequests); n > 10 {
		t.Errorf("%d label sets after a handful of paths", n)
	}
}
