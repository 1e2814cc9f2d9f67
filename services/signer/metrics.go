package signer

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	metricIssued = promauto.NewCounter(prometheus.CounterOpts{
		Name: "creditchain_signer_certificates_issued_total", Help: "Certificates built, signed and stored.",
	})
	metricFailed = promauto.NewCounter(prometheus.CounterOpts{
		Name: "creditchain_signer_exits_failed_total", Help: "Exits no certificate could be built for (each is logged).",
	})
	metricSubmitted = promauto.NewCounter(prometheus.CounterOpts{
		Name: "creditchain_signer_issue_submitted_total", Help: "certificate.issue transactions accepted by intake.",
	})
	metricAnchored = promauto.NewCounter(prometheus.CounterOpts{
		Name: "creditchain_signer_certificates_anchored_total", Help: "Certificates whose certificate.issue committed.",
	})
	metricPending = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "creditchain_signer_certificates_unanchored", Help: "Stored certificates not yet anchored on the ledger.",
	})
)
