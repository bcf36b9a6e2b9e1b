package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/claimdesk/claimdesk/internal/store"
)

// QueueCollector reports the depth of the job queue to Prometheus: jobs queued and running,
// by kind, read from the database at each scrape. The queue is shared by every instance, so
// this is the depth of the whole queue (every instance reports the same figure), not of this
// process.
type QueueCollector struct {
	Store *store.Store
	// Kinds are reported even when none of them is queued, so their series exist (default:
	// imports and exports).
	Kinds []string
	// Timeout bounds the query (default 2 s): a slow database must not hang the scrape.
	Timeout time.Duration
}

var queueDepth = prometheus.NewDesc("claimdesk_job_queue_depth",
	"Jobs in the database-backed queue shared by every instance, by kind (import, export) and state (queued, running).",
	[]string{"kind", "state"}, nil)

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDepth }

// Collect implements prometheus.Collector. When the database does not answer, the series are
// left out of this scrape (the rest of /metrics, and go_sql_* saying why, still answer).
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	counts, err := c.Store.ActiveJobCounts(ctx)
	if err != nil {
		return
	}
	kinds := c.Kinds
	if kinds == nil {
		kinds = []string{store.JobImport, store.JobExport}
	}
	depth := map[[2]string]int64{}
	for _, k := range kinds {
		depth[[2]string{k, store.JobQueued}] = 0
		depth[[2]string{k, store.JobRunning}] = 0
	}
	for _, n := range counts {
		depth[[2]string{n.Kind, n.Status}] += n.N
	}
	for k, n := range depth {
		ch <- prometheus.MustNewConstMetric(queueDepth, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}
