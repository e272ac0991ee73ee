package controllers

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

// The suite's shared control plane and client.
var (
	restConfig *rest.Config
	k8sClient  client.Client
	scheme     = runtime.NewScheme()
)

// Credentials of the test emulator's principals.
const (
	testRegion     = "us-east-1"
	testAccessKey  = "AKIDTESTOPERATOR"
	testSecretKey  = "test-secret-access-key"
	testUnknownKey = "AKIDUNKNOWN"
)

// testSeed is the emulator's state in the controller tests: one domain the
// test principal may use and one it may not.
const testSeed = `
principals:
- accessKeyId: AKIDTESTOPERATOR
  secretAccessKey: test-secret-access-key
  actions: ["*"]
  domains: ["domain-1"]
- accessKeyId: AKIDNOGETCASE
  secretAccessKey: no-getcase-secret-access-key
  actions: ["cases:UpdateCase", "cases:ListFields", "cases:BatchGetField", "cases:ListFieldOptions"]
  domains: ["domain-1"]
domains:
- id: domain-1
  name: Test domain
  fields:
  - {id: priority, name: Priority, type: SingleSelect, options: [{name: High, value: high}, {name: Low, value: low}]}
  - {id: escalated, name: Escalated, type: Boolean}
  - {id: score, name: Score, type: Number}
  - {id: summary, name: Summary, type: Text}
  - {id: owner, name: Owner, type: User}
  templates:
  - {id: template-1, name: Default, requiredFields: [summary]}
  cases:
  - {id: case-1, templateId: template-1, fields: {summary: {stringValue: first}}}
  - {id: case-2, templateId: template-1, fields: {summary: {stringValue: second}}}
  - {id: case-3, templateId: template-1, fields: {summary: {stringValue: third}}}
  - {id: case-4, templateId: template-1, fields: {summary: {stringValue: fourth}}}
  - {id: case-5, templateId: template-1, fields: {summary: {stringValue: fifth}}}
  - {id: case-6, templateId: template-1, fields: {summary: {stringValue: sixth}}}
  - {id: case-7, templateId: template-1, fields: {summary: {stringValue: seventh}}}
  - {id: case-8, templateId: template-1, fields: {summary: {stringValue: eighth}}}
- id: domain-locked
  name: Locked domain
  fields:
  - {id: summary, name: Summary, type: Text}
  templates:
  - {id: template-1, name: Default}
  cases:
  - {id: case-1, templateId: template-1}
`

// testLabel marks the objects of one test, so that each test's manager
// reconciles its own objects only.
const testLabel = "test.connectcases.dev/run"

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	flag.Parse()
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		// A fuzzing worker runs only the pure fuzz targets: no control plane.
		return m.Run()
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr)))
	// The AWS default chain reads only what the tests set.
	testenv.IsolateAWS(testAccessKey, testSecretKey, testRegion)

	utilMust(clientgoscheme.AddToScheme(scheme))
	utilMust(casesv1alpha1.AddToScheme(scheme))
	env, cfg, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	restConfig = cfg
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func utilMust(err error) {
	if err != nil {
		panic(err)
	}
}

// harness is one test's world: a namespace, an emulator served over HTTP,
// an SDK client pointed at it, and optionally a running manager.
type harness struct {
	t         *testing.T
	namespace string
	runID     string
	emu       *emulator.Server
	url       string
	cases     *connectcases.Client
	logs      *syncBuffer
}

// harnessOptions tune a harness.
type harnessOptions struct {
	quotas map[string]emulator.Quota
	// logs, when set, receives the logs of the harness's managers.
	logs *syncBuffer
}

// syncBuffer collects a manager's logs.
type syncBuffer = testenv.SyncBuffer

var runCounter atomic.Int64

// newHarness creates the namespace and the emulator of a test.
func newHarness(t *testing.T, opts harnessOptions) *harness {
	t.Helper()
	g := NewWithT(t)
	seed, err := emulator.ParseSeed([]byte(testSeed))
	g.Expect(err).NotTo(HaveOccurred())
	quotas := map[string]emulator.Quota{"UpdateCase": {RPS: 1000, Burst: 1000}}
	for k, v := range opts.quotas {
		quotas[k] = v
	}
	emu, err := emulator.New(emulator.Options{Region: testRegion, Seed: seed, Quotas: quotas, RandomSeed: 1})
	g.Expect(err).NotTo(HaveOccurred())
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)

	id := fmt.Sprintf("t%d", runCounter.Add(1))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: strings.ToLower(id) + "-" + sanitize(t.Name())}}
	g.Expect(k8sClient.Create(context.Background(), ns)).To(Succeed())

	h := &harness{t: t, namespace: ns.Name, runID: id, emu: emu, url: srv.URL, logs: opts.logs}
	h.cases = h.newCasesClient(testAccessKey, testSecretKey)
	t.Cleanup(func() {
		// envtest runs no namespace controller: delete the objects themselves.
		_ = k8sClient.DeleteAllOf(context.Background(), &casesv1alpha1.CaseFieldUpdate{}, client.InNamespace(ns.Name))
	})
	return h
}

// sanitize turns a test name into a DNS label fragment.
func sanitize(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	s := b.String()
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.Trim(s, "-")
}

// newCasesClient returns the production SDK client configuration pointed at
// the harness's emulator, with the given static credentials.
func (h *harness) newCasesClient(accessKey, secretKey string) *connectcases.Client {
	h.t.Helper()
	return h.newCasesClientAs(accessKey, secretKey, cases.Options{Region: testRegion})
}

// newCasesClientWith returns the test principal's client with other client
// options.
func (h *harness) newCasesClientWith(opts cases.Options) *connectcases.Client {
	h.t.Helper()
	return h.newCasesClientAs(testAccessKey, testSecretKey, opts)
}

func (h *harness) newCasesClientAs(accessKey, secretKey string, opts cases.Options) *connectcases.Client {
	cfg, err := cases.LoadConfig(context.Background(), opts)
	NewWithT(h.t).Expect(err).NotTo(HaveOccurred())
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey, Source: "test"}, nil
	})
	return cases.NewClient(cfg, func(o *connectcases.Options) { o.BaseEndpoint = aws.String(h.url) })
}

// reconciler returns a reconciler for the harness with short waits.
func (h *harness) reconciler(c client.Client) *CaseFieldUpdateReconciler {
	return &CaseFieldUpdateReconciler{
		Client:               c,
		Cases:                h.cases,
		CallTimeout:          30 * time.Second,
		StalledRetryInterval: time.Minute,
		MaxBackoff:           2 * time.Second,
	}
}

// createForReconcile creates obj with no manager to reconcile it, and
// returns a reconciler whose client reads from a cache that holds it: the
// test drives Reconcile itself.
func (h *harness) createForReconcile(obj *casesv1alpha1.CaseFieldUpdate) *CaseFieldUpdateReconciler {
	h.t.Helper()
	g := NewWithT(h.t)
	ctx := context.Background()
	obj.Labels = nil // no manager selects it
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	cl := h.cachedClient()
	g.Eventually(func() error {
		return cl.Get(ctx, client.ObjectKeyFromObject(obj), &casesv1alpha1.CaseFieldUpdate{})
	}, timeout, interval).Should(Succeed())
	return h.reconciler(cl)
}

// cachedClient returns a client that reads from a started cache with the
// reconciler's index, as a manager's client does, and writes to the API
// server. The cache stops at the end of the test.
func (h *harness) cachedClient() client.Client {
	h.t.Helper()
	g := NewWithT(h.t)
	c, err := cache.New(restConfig, cache.Options{Scheme: scheme, DefaultTransform: CacheTransform})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(indexField(context.Background(), c, caseIndexKey, indexByCase)).To(Succeed())
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(cancel)
	go func() { _ = c.Start(ctx) }()
	g.Expect(c.WaitForCacheSync(ctx)).To(BeTrue())
	cl, err := client.New(restConfig, client.Options{Scheme: scheme, Cache: &client.CacheOptions{Reader: c}})
	g.Expect(err).NotTo(HaveOccurred())
	return cl
}

// startManager runs a manager that reconciles the harness's objects, until
// the returned function (also run at cleanup) stops it.
func (h *harness) startManager(tune func(r *CaseFieldUpdateReconciler)) func() {
	h.t.Helper()
	return h.startManagerWith(tune, nil)
}

// startManagerWith is startManager with setup, when not nil, adding to the
// manager before it starts (another controller, say).
func (h *harness) startManagerWith(tune func(r *CaseFieldUpdateReconciler), setup func(mgr ctrl.Manager)) func() {
	h.t.Helper()
	g := NewWithT(h.t)
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// The manager's transform, so that every test reconciles from
		// objects cached as the manager caches them.
		Cache: cache.Options{DefaultTransform: CacheTransform, ByObject: map[client.Object]cache.ByObject{
			&casesv1alpha1.CaseFieldUpdate{}: {Label: labels.SelectorFromSet(labels.Set{testLabel: h.runID})},
		}},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		Logger:     h.managerLogger(),
	})
	g.Expect(err).NotTo(HaveOccurred())
	r := h.reconciler(mgr.GetClient())
	r.Recorder = mgr.GetEventRecorder("connectcases-operator")
	if tune != nil {
		tune(r)
	}
	g.Expect(r.SetupWithManager(mgr, 2)).To(Succeed())
	if setup != nil {
		setup(mgr)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var stopped atomic.Bool
	stop := func() {
		if stopped.Swap(true) {
			return
		}
		cancel()
		g.Expect(<-done).To(Succeed())
	}
	h.t.Cleanup(stop)
	return stop
}

// managerLogger returns the logger of the harness's managers: the suite's,
// or one that also writes to the harness's log buffer at full verbosity.
func (h *harness) managerLogger() logr.Logger {
	if h.logs == nil {
		return ctrl.Log
	}
	return zap.New(zap.UseDevMode(true), zap.WriteTo(io.MultiWriter(os.Stderr, h.logs)), zap.Level(zapcore.Level(-10)))
}

// withCatalog turns the field catalog on for a reconciler, as the manager
// does unless --skip-field-checks.
func (h *harness) withCatalog(r *CaseFieldUpdateReconciler) {
	r.Catalog = cases.NewCatalog(h.cases, nil, time.Minute, DefaultMaxLimiterWait, cases.WithCallTimeout(r.CallTimeout))
}

// newObject returns a CaseFieldUpdate of the harness (labelled for its
// manager) for case caseID of domain-1.
func (h *harness) newObject(name, caseID string, fields ...casesv1alpha1.CaseField) *casesv1alpha1.CaseFieldUpdate {
	return &casesv1alpha1.CaseFieldUpdate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.namespace, Labels: map[string]string{testLabel: h.runID}},
		Spec:       casesv1alpha1.CaseFieldUpdateSpec{DomainID: "domain-1", CaseID: caseID, Fields: fields},
	}
}

// get reads obj back from the API server.
func (h *harness) get(obj *casesv1alpha1.CaseFieldUpdate) *casesv1alpha1.CaseFieldUpdate {
	out := &casesv1alpha1.CaseFieldUpdate{}
	NewWithT(h.t).Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), out)).To(Succeed())
	return out
}

// readyReasonOf returns a function for Eventually that reads obj's Ready
// reason at its current generation ("" until observed).
func (h *harness) readyReasonOf(obj *casesv1alpha1.CaseFieldUpdate) func(Gomega) string {
	return func(g Gomega) string {
		cur := &casesv1alpha1.CaseFieldUpdate{}
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), cur)).To(Succeed())
		if cur.Status.ObservedGeneration != cur.Generation {
			return ""
		}
		return readyReason(cur)
	}
}

// events returns the Events about obj, oldest first.
func (h *harness) events(g Gomega, obj *casesv1alpha1.CaseFieldUpdate) []eventsv1.Event {
	list := &eventsv1.EventList{}
	g.Expect(k8sClient.List(context.Background(), list, client.InNamespace(obj.Namespace))).To(Succeed())
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == obj.Name && e.Regarding.Kind == "CaseFieldUpdate" {
			out = append(out, e)
		}
	}
	return out
}

// eventReasons returns "Type/Reason" of the Events about obj.
func (h *harness) eventReasons(obj *casesv1alpha1.CaseFieldUpdate) func(Gomega) []string {
	return func(g Gomega) []string {
		var out []string
		for _, e := range h.events(g, obj) {
			out = append(out, e.Type+"/"+e.Reason)
		}
		return out
	}
}

// updateCalls returns the number of UpdateCase calls the emulator answered
// for case caseID of domain-1, any outcome.
func (h *harness) updateCalls(caseID string) int {
	n := 0
	for _, c := range h.emu.Calls().Recent {
		if c.Operation == "UpdateCase" && strings.HasSuffix(c.Path, "/cases/"+caseID) {
			n++
		}
	}
	return n
}

// reconcileCount returns how many reconciles of the CaseFieldUpdate
// controller have finished in this process, from controller-runtime's own
// metric.
func reconcileCount(g Gomega) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	total := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "casefieldupdate" {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// stringField, boolField, ... build spec items.
func stringField(id, v string) casesv1alpha1.CaseField {
	return casesv1alpha1.CaseField{ID: id, Value: casesv1alpha1.FieldValue{StringValue: ptr.To(v)}}
}

func boolField(id string, v bool) casesv1alpha1.CaseField {
	return casesv1alpha1.CaseField{ID: id, Value: casesv1alpha1.FieldValue{BooleanValue: ptr.To(v)}}
}

func doubleField(id string, v float64) casesv1alpha1.CaseField {
	return casesv1alpha1.CaseField{ID: id, Value: casesv1alpha1.FieldValue{DoubleValue: ptr.To(v)}}
}
