package api

import (
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/claimdesk/claimdesk/api/web"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/importer"
	"github.com/claimdesk/claimdesk/internal/jobs"
)

// Metrics are the Prometheus metrics of one server, in a registry of its own (no globals, so
// tests can build many servers).
type Metrics struct {
	Registry      *prometheus.Registry
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	ClaimsCreated *prometheus.CounterVec
	// ClaimGroups is the size of the groups single claims are written in (group commit).
	ClaimGroups prometheus.Histogram
}

func newMetrics(s *Server) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "claimdesk_http_requests_total",
			Help: "HTTP requests by route pattern, method and status."}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "claimdesk_http_request_duration_seconds",
			Help: "HTTP request latency by route pattern and method.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
			[]string{"route", "method"}),
		ClaimsCreated: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "claimdesk_claims_created_total",
			Help: "Claims stored, by channel (web, api, import)."}, []string{"channel"}),
		ClaimGroups: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "claimdesk_claim_group_size",
			Help:    "Claims submitted one by one (web form, POST /claims) written in one transaction together: 1 when idle, more under load.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64}}),
	}
	m.Registry.MustRegister(m.requests, m.duration, m.ClaimsCreated, m.ClaimGroups,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if s.store != nil {
		m.Registry.MustRegister(collectors.NewDBStatsCollector(s.store.SQL(), "claimdesk"),
			&jobs.QueueCollector{Store: s.store})
	}
	m.Registry.MustRegister(importRows{s})
	return m
}

// importRows reports the rows processed by the server's importer (s.imports, set up after
// the metrics and before the first request), by the outcome of their claim.
type importRows struct{ s *Server }

var importRowsDesc = prometheus.NewDesc("claimdesk_import_rows_total",
	"Import rows processed by this process, by the outcome of their claim (created, unchanged, rejected), counted as each batch of a file is decided: rate() is the import speed in rows/s. Rows of dry runs and of imports rolled back count too.",
	[]string{"outcome"}, nil)

func (c importRows) Describe(ch chan<- *prometheus.Desc) { ch <- importRowsDesc }

func (c importRows) Collect(ch chan<- prometheus.Metric) {
	var n importer.RowCounts
	if im := c.s.imports.importer; im != nil {
		n = im.RowsProcessed()
	}
	ch <- prometheus.MustNewConstMetric(importRowsDesc, prometheus.CounterValue, float64(n.Created), "created")
	ch <- prometheus.MustNewConstMetric(importRowsDesc, prometheus.CounterValue, float64(n.Unchanged), "unchanged")
	ch <- prometheus.MustNewConstMetric(importRowsDesc, prometheus.CounterValue, float64(n.Rejected), "rejected")
}

// middleware counts and times every request by its route pattern (never the raw path, which
// holds references).
func (m *Metrics) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		m.duration.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	}
}

// operations registers /metrics and /debug/pprof, both for admins only (a scraper uses an
// admin token).
func (s *Server) operations(r *gin.Engine) {
	ops := r.Group("", s.authenticate(), require(auth.Admin))
	ops.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{})))
	ops.GET("/debug/pprof/*profile", func(c *gin.Context) {
		switch name := c.Param("profile"); name {
		case "/", "":
			pprof.Index(c.Writer, c.Request)
		case "/cmdline":
			pprof.Cmdline(c.Writer, c.Request)
		case "/profile":
			pprof.Profile(c.Writer, c.Request)
		case "/symbol":
			pprof.Symbol(c.Writer, c.Request)
		case "/trace":
			pprof.Trace(c.Writer, c.Request)
		default:
			pprof.Handler(name[1:]).ServeHTTP(c.Writer, c.Request)
		}
	})
}

// securityHeaders sets safe defaults on every response; pages that need more (their own CSP)
// set it themselves. HSTS only where the request came over TLS (directly or at the proxy), as
// web.Secure decides for cookies; alwaysSecure (Config.SecureCookies) says every request did.
func securityHeaders(alwaysSecure bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if alwaysSecure {
			web.AlwaysSecure(c)
		}
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		if web.Secure(c) {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		if len(c.Request.URL.Path) > 5 && c.Request.URL.Path[:5] == "/api/" {
			h.Set("Cache-Control", "no-store") // answers carry personal data
		}
		c.Next()
	}
}

var _ http.Handler = promhttp.Handler()
