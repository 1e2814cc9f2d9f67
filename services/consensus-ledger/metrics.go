package consensus

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	metricAppended = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "creditchain_consensus_blocks_appended_total", Help: "Blocks this recorder appended to LEDGER as leader.",
	}, []string{"institution"})
	metricTxs = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "creditchain_consensus_transactions_total", Help: "Transactions decided in blocks this recorder led, by outcome.",
	}, []string{"institution", "outcome"})
	metricVotes = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "creditchain_consensus_votes_total", Help: "Cosignatures this recorder gave.",
	}, []string{"institution"})
	metricRefusedVotes = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "creditchain_consensus_votes_refused_total", Help: "Proposals this recorder refused to cosign.",
	}, []string{"institution"})
	metricRefusedBlocks = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "creditchain_consensus_blocks_refused_total", Help: "LEDGER blocks refused by this recorder's state (alerts).",
	}, []string{"institution", "kind"})
	metricBadVotes = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "creditchain_consensus_bad_votes_total", Help: "Votes whose cosignature or checkpoint signature did not verify (misbehaviour).",
	}, []string{"institution", "recorder"})
	metricBlockSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "creditchain_consensus_block_seconds", Help: "Time from proposal to append, as leader.",
		Buckets: prometheus.ExponentialBuckets(0.002, 2, 12),
	}, []string{"institution"})
)
