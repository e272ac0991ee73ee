package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/connectcases-operator/connectcases-operator/internal/localenv"
)

// apiCounts are the API server's request counts by "VERB resource", where
// resource is qualified by its group and subresource
// (casefieldupdates.cases.connectcases.dev/status).
type apiCounts map[string]float64

// apiServer reads the API server's own request counts from its /metrics.
type apiServer struct {
	rc rest.Interface
}

// newAPIServer returns a reader of the API server's metrics.
func newAPIServer(cfg *rest.Config) (*apiServer, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &apiServer{rc: cs.Discovery().RESTClient()}, nil
}

// requests scrapes apiserver_request_total.
func (a *apiServer) requests(ctx context.Context) (apiCounts, error) {
	data, err := a.rc.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to scrape the API server's metrics: %w", err)
	}
	return parseRequestTotals(string(data)), nil
}

// labelPattern matches one label of a metric line.
var labelPattern = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

// parseRequestTotals sums the samples of apiserver_request_total in a
// Prometheus text exposition by verb and qualified resource.
func parseRequestTotals(text string) apiCounts {
	out := apiCounts{}
	forEachSample(strings.NewReader(text), func(name, labels string, v float64) {
		if name != "apiserver_request_total" {
			return
		}
		l := map[string]string{}
		for _, m := range labelPattern.FindAllStringSubmatch(labels, -1) {
			l[m[1]] = m[2]
		}
		out[requestKey(l["verb"], l["group"], l["resource"], l["subresource"])] += v
	})
	return out
}

// forEachSample calls fn with the metric name, the label text and the value
// of every labelled sample of a Prometheus text exposition.
func forEachSample(r io.Reader, fn func(name, labels string, v float64)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), "{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			continue
		}
		fn(name, labels, v)
	}
}

// requestKey names a verb on a resource, as in apiCounts.
func requestKey(verb, group, resource, subresource string) string {
	if group != "" {
		resource += "." + group
	}
	if subresource != "" {
		resource += "/" + subresource
	}
	return verb + " " + resource
}

// since returns the counts added after earlier.
func (c apiCounts) since(earlier apiCounts) apiCounts {
	out := apiCounts{}
	for k, v := range c {
		if d := v - earlier[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// Keys of the writes whose counts the goals read.
var (
	keyStatusPatch = requestKey("PATCH", "cases.connectcases.dev", "casefieldupdates", "status")
	keyEventCreate = requestKey("POST", "events.k8s.io", "events", "")
	keyEventPatch  = requestKey("PATCH", "events.k8s.io", "events", "")
)

// settledRequests scrapes until two scrapes half a second apart agree on
// the Event and status writes, at most for limit: Events are sent after the
// status, asynchronously, by both the manager and the raw peer.
func (a *apiServer) settledRequests(ctx context.Context, limit time.Duration) (apiCounts, error) {
	deadline := time.Now().Add(limit)
	prev, err := a.requests(ctx)
	if err != nil {
		return nil, err
	}
	for time.Now().Before(deadline) {
		if !localenv.Sleep(ctx, 500*time.Millisecond) {
			return prev, ctx.Err()
		}
		cur, err := a.requests(ctx)
		if err != nil {
			return nil, err
		}
		stable := true
		for _, k := range []string{keyStatusPatch, keyEventCreate, keyEventPatch} {
			stable = stable && cur[k] == prev[k]
		}
		prev = cur
		if stable {
			break
		}
	}
	return prev, nil
}

// controlPlanePids finds the kube-apiserver and etcd that this program
// started (its children), by command name.
func controlPlanePids() map[string]int {
	out := map[string]int{}
	self := os.Getpid()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		lparen, rparen := strings.IndexByte(string(data), '('), strings.LastIndexByte(string(data), ')')
		if lparen < 0 || rparen < lparen {
			continue
		}
		name := string(data[lparen+1 : rparen])
		fields := strings.Fields(string(data[rparen+1:]))
		if len(fields) < 2 || (name != "kube-apiserver" && name != "etcd") {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid != self {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(dir))
		out[name] = pid
	}
	return out
}

// processCPU returns the CPU seconds used so far by the process pid.
func processCPU(pid int) float64 {
	d, err := localenv.PidCPUTime(pid)
	if err != nil {
		return 0
	}
	return d.Seconds()
}

// loadAvg returns the machine's 1, 5 and 15 minute load averages.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
