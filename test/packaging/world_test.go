package packaging

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/controllers"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/connections"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

const (
	timeout  = 90 * time.Second
	interval = 100 * time.Millisecond
)

// testSeed is the emulator's state: one domain with one case per test
// object.
const testSeed = `
principals:
- accessKeyId: AKIDPACKAGINGTEST
  secretAccessKey: packaging-secret-access-key-3f9c2e71
  actions: ["*"]
  domains: ["domain-1"]
domains:
- id: domain-1
  name: Packaging domain
  fields:
  - {id: priority, name: Priority, type: SingleSelect, options: [{name: High, value: high}, {name: Low, value: low}]}
  - {id: summary, name: Summary, type: Text}
  templates:
  - {id: template-1, name: Default}
  cases:
  - {id: case-1, templateId: template-1}
  - {id: case-2, templateId: template-1}
  - {id: case-3, templateId: template-1}
  - {id: case-4, templateId: template-1}
`

// testLabel marks the objects a world's manager reconciles.
const testLabel = "test.connectcases.dev/world"

var worldCounter atomic.Int64

// world is one test's namespace, emulator and manager.
type world struct {
	t         *testing.T
	namespace string
	id        string
	emu       *emulator.Server
	url       string
}

// newWorld creates a namespace and an emulator served over HTTP.
func newWorld(t *testing.T) *world {
	t.Helper()
	g := NewWithT(t)
	seed, err := emulator.ParseSeed([]byte(testSeed))
	g.Expect(err).NotTo(HaveOccurred())
	emu, err := emulator.New(emulator.Options{Region: testRegion, Seed: seed,
		Quotas: map[string]emulator.Quota{"UpdateCase": {RPS: 1000, Burst: 1000}}, RandomSeed: 1})
	g.Expect(err).NotTo(HaveOccurred())
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)

	id := fmt.Sprintf("w%d", worldCounter.Add(1))
	ns := id + "-" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(ns) > 50 {
		ns = strings.TrimRight(ns[:50], "-")
	}
	ensureNamespace(t, ns, nil)
	t.Cleanup(func() {
		_ = k8sClient.DeleteAllOf(context.Background(), &casesv1alpha1.CaseFieldUpdate{}, client.InNamespace(ns))
	})
	return &world{t: t, namespace: ns, id: id, emu: emu, url: srv.URL}
}

// casesClient returns the production SDK client configuration, with
// static credentials, pointed at the world's emulator.
func (w *world) casesClient(opts cases.Options) *connectcases.Client {
	w.t.Helper()
	opts.Region = testRegion
	cfg, err := cases.LoadConfig(context.Background(), opts)
	NewWithT(w.t).Expect(err).NotTo(HaveOccurred())
	return cases.NewClient(cfg, func(o *connectcases.Options) { o.BaseEndpoint = aws.String(w.url) })
}

// managerOptions tune a world's manager.
type managerOptions struct {
	// restConfig is the manager's identity; the suite's admin when nil.
	restConfig *rest.Config
	// cases configures the SDK client.
	cases cases.Options
	// leaderElection elects a leader with a Lease in the world's namespace.
	leaderElection bool
	// setup runs on the manager before it starts.
	setup func(mgr manager.Manager)
	// logger is the manager's logger; the suite's when nil.
	logger *logr.Logger
	// now is the reconciler's clock; time.Now when nil.
	now func() time.Time
	// connections, when set, gives the reconciler CasesConnections.
	connections *connections.Registry
}

// startManager runs a manager with the CaseFieldUpdate reconciler for the
// world's labelled objects, until the test ends.
func (w *world) startManager(o managerOptions) manager.Manager {
	w.t.Helper()
	g := NewWithT(w.t)
	cfg := o.restConfig
	if cfg == nil {
		cfg = restConfig
	}
	logger := ctrl.Log
	if o.logger != nil {
		logger = *o.logger
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		LeaderElection:                o.leaderElection,
		LeaderElectionID:              "connectcases-operator-" + w.id,
		LeaderElectionNamespace:       w.namespace,
		LeaderElectionReleaseOnCancel: true,
		Cache: cache.Options{
			DefaultNamespaces: map[string]cache.Config{w.namespace: {}},
			ByObject: map[client.Object]cache.ByObject{
				&casesv1alpha1.CaseFieldUpdate{}: {Label: labels.SelectorFromSet(labels.Set{testLabel: w.id})},
			},
		},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		Logger:     logger,
	})
	g.Expect(err).NotTo(HaveOccurred())
	r := &controllers.CaseFieldUpdateReconciler{
		Client:               mgr.GetClient(),
		Cases:                w.casesClient(o.cases),
		Recorder:             mgr.GetEventRecorder("connectcases-operator"),
		CallTimeout:          30 * time.Second,
		StalledRetryInterval: time.Minute,
		MaxBackoff:           2 * time.Second,
		Now:                  o.now,
		Connections:          o.connections,
	}
	g.Expect(r.SetupWithManager(mgr, 2)).To(Succeed())
	if o.setup != nil {
		o.setup(mgr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	w.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			w.t.Errorf("the manager failed: %v", err)
		}
	})
	return mgr
}

// newObject returns a CaseFieldUpdate of the world for a case of domain-1;
// watched tells whether the world's manager reconciles it.
func (w *world) newObject(name, caseID string, watched bool, fields ...casesv1alpha1.CaseField) *casesv1alpha1.CaseFieldUpdate {
	label := w.id
	if !watched {
		label = w.id + "-idle"
	}
	return &casesv1alpha1.CaseFieldUpdate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.namespace, Labels: map[string]string{testLabel: label}},
		Spec:       casesv1alpha1.CaseFieldUpdateSpec{DomainID: "domain-1", CaseID: caseID, Fields: fields},
	}
}

// waitForReason waits until obj's Ready condition has reason at its
// current generation, and returns the object as stored.
func (w *world) waitForReason(obj *casesv1alpha1.CaseFieldUpdate, reason string) *casesv1alpha1.CaseFieldUpdate {
	w.t.Helper()
	cur := &casesv1alpha1.CaseFieldUpdate{}
	NewWithT(w.t).Eventually(func(g Gomega) string {
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), cur)).To(Succeed())
		c := meta.FindStatusCondition(cur.Status.Conditions, casesv1alpha1.ReadyCondition)
		if c == nil || cur.Status.ObservedGeneration != cur.Generation {
			return ""
		}
		return c.Reason
	}, timeout, interval).Should(Equal(reason))
	return cur
}

// field returns a spec item with a string value.
func field(id, v string) casesv1alpha1.CaseField {
	return casesv1alpha1.CaseField{ID: id, Value: casesv1alpha1.FieldValue{StringValue: ptr.To(v)}}
}
