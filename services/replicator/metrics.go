package replicator

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	metricHeight = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "creditchain_replica_height", Help: "Height of the replica's head block.",
	}, []string{"institution"})
	metricLag = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "creditchain_replica_lag_blocks", Help: "LEDGER messages not yet applied by the replica.",
	}, []string{"institution"})
	metricApply = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "creditchain_replica_apply_seconds", Help: "Time to verify and apply one block.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	}, []string{"institution"})
	metricRefused = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "creditchain_replica_blocks_refused_total", Help: "Blocks refused: fork, gap or invalid. Each is an alert.",
	}, []string{"institution", "kind"})
)
