package exitcontract

import "github.com/prometheus/client_golang/prometheus"

// RegisterMetrics exposes the service's status as Prometheus gauges of the
// default registry, read at scrape time so they never drift from Status.
// One service per process: a second registration panics.
func RegisterMetrics(s *Service) {
	gauge := func(name, help string, f func(Status) float64) {
		prometheus.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return f(s.Status()) }))
	}
	gauge("creditchain_exit_contract_scheduled", "Records waiting in the schedule for their due time.",
		func(st Status) float64 { return float64(st.Scheduled) })
	gauge("creditchain_exit_contract_pending", "Records whose exit or purge holds and is not committed yet.",
		func(st Status) float64 { return float64(st.Pending) })
	gauge("creditchain_exit_contract_height", "Height of the replica head the schedule was evaluated at.",
		func(st Status) float64 { return float64(st.Height) })
	gauge("creditchain_exit_contract_evaluations", "Policy evaluations since start.",
		func(st Status) float64 { return float64(st.Evaluations) })
	gauge("creditchain_exit_contract_evaluation_errors", "Policy evaluations that failed since start.",
		func(st Status) float64 { return float64(st.EvaluationErrors) })
}
