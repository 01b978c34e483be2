// Package metrics exposes Ombud's Prometheus metrics on a registry of its
// own, and is the only importer of the Prometheus client. Counters and the
// turn histogram are fed by the service as it works; queue depths and
// cases by status are read from the store when scraped.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ombud/bot"
	"ombud/dialog"
	"ombud/store"
)

// Metrics holds Ombud's metrics. It satisfies bot.Observer.
type Metrics struct {
	reg       *prometheus.Registry
	inputs    *prometheus.CounterVec
	turns     *prometheus.HistogramVec
	sends     *prometheus.CounterVec
	deadlines *prometheus.CounterVec
	reloads   *prometheus.CounterVec
}

// Source is what the metrics read from the store at every scrape.
type Source interface {
	Outbox(limit int) ([]bot.OutboxItem, error)
	Complaints(fn func(dialog.Complaint) error) error
}

// Disk is a store on a local disk that keeps a reserve of free space.
type Disk interface {
	Space() store.SpaceStatus
}

// New makes the metrics; st, if not nil, is read for the outbox and cases
// at every scrape, and for the disk if it is a Disk.
func New(st Source) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		inputs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ombud_inputs_total", Help: "Inputs handled, by channel (telegram, console, slack, timer).",
		}, []string{"channel"}),
		turns: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ombud_turn_seconds", Help: "Time to handle one input, store transaction included.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"result"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ombud_sends_total", Help: "Messages sent, by destination and result (ok, 429, error, blocked).",
		}, []string{"destination", "result"}),
		deadlines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ombud_deadline_events_total", Help: "Deadline timers fired, by kind (reminder, breach, purge).",
		}, []string{"kind"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ombud_policy_reloads_total", Help: "Policy reloads, by result (ok, refused).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.inputs, m.turns, m.sends, m.deadlines, m.reloads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if st != nil {
		m.reg.MustRegister(&storeCollector{st: st, now: time.Now})
	}
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Input counts an input handled on channel.
func (m *Metrics) Input(channel string) { m.inputs.WithLabelValues(channel).Inc() }

// Turn records how long a turn took and whether it failed.
func (m *Metrics) Turn(d time.Duration, failed bool) {
	result := "ok"
	if failed {
		result = "failed"
	}
	m.turns.WithLabelValues(result).Observe(d.Seconds())
}

// Sent counts a send to destination (a consumer channel, or agents).
func (m *Metrics) Sent(destination, result string) {
	m.sends.WithLabelValues(destination, result).Inc()
}

// Deadline counts a deadline timer firing.
func (m *Metrics) Deadline(kind string) { m.deadlines.WithLabelValues(kind).Inc() }

// Reload counts a policy reload.
func (m *Metrics) Reload(ok bool) {
	result := "ok"
	if !ok {
		result = "refused"
	}
	m.reloads.WithLabelValues(result).Inc()
}

var (
	outboxDepth = prometheus.NewDesc("ombud_outbox_depth", "Messages waiting to be sent, by destination.", []string{"destination"}, nil)
	outboxAge   = prometheus.NewDesc("ombud_outbox_oldest_seconds", "Age of the oldest waiting message, by destination.", []string{"destination"}, nil)
	cases       = prometheus.NewDesc("ombud_cases", "Cases, by status.", []string{"status"}, nil)
	diskFull    = prometheus.NewDesc("ombud_disk_full", "1 while the data disk has less free space than the reserve and nothing is confirmed, else 0.", nil, nil)
	diskFree    = prometheus.NewDesc("ombud_disk_free_bytes", "Free space on the data disk.", nil, nil)
	diskReserve = prometheus.NewDesc("ombud_disk_reserve_bytes", "Free space the store keeps; below it, writes are refused.", nil, nil)
	diskRefused = prometheus.NewDesc("ombud_disk_writes_refused_total", "Writes refused because the data disk was full.", nil, nil)
)

// storeCollector reads queue depths and cases from the store at scrape.
type storeCollector struct {
	st  Source
	now func() time.Time
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDepth
	ch <- outboxAge
	ch <- cases
	ch <- diskFull
	ch <- diskFree
	ch <- diskReserve
	ch <- diskRefused
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	if d, ok := c.st.(Disk); ok {
		space := d.Space()
		full := 0.0
		if space.Full {
			full = 1
		}
		ch <- prometheus.MustNewConstMetric(diskFull, prometheus.GaugeValue, full)
		ch <- prometheus.MustNewConstMetric(diskFree, prometheus.GaugeValue, float64(space.Free))
		ch <- prometheus.MustNewConstMetric(diskReserve, prometheus.GaugeValue, float64(space.Reserve))
		ch <- prometheus.MustNewConstMetric(diskRefused, prometheus.CounterValue, float64(space.Refused))
	}
	depth := map[string]int{}
	oldest := map[string]time.Time{}
	if items, err := c.st.Outbox(0); err == nil {
		for _, it := range items {
			dest := Destination(it.Output)
			depth[dest]++
			if o, ok := oldest[dest]; !ok || it.Queued.Before(o) {
				oldest[dest] = it.Queued
			}
		}
	}
	for _, dest := range []string{"telegram", "console", "agents"} {
		age := 0.0
		if t, ok := oldest[dest]; ok && !t.IsZero() {
			age = c.now().Sub(t).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(outboxDepth, prometheus.GaugeValue, float64(depth[dest]), dest)
		ch <- prometheus.MustNewConstMetric(outboxAge, prometheus.GaugeValue, age, dest)
	}
	byStatus := map[dialog.CaseStatus]int{}
	_ = c.st.Complaints(func(comp dialog.Complaint) error {
		byStatus[comp.Status]++
		return nil
	})
	for _, s := range dialog.CaseStatuses() {
		ch <- prometheus.MustNewConstMetric(cases, prometheus.GaugeValue, float64(byStatus[s]), string(s))
	}
}

// Destination is the label of an output's destination: its consumer
// channel, or "agents".
func Destination(out dialog.Output) string {
	if out.To == dialog.ToAgents {
		return "agents"
	}
	return out.Channel
}
