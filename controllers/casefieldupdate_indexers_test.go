package controllers

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// TestIndexes checks that the indexes, each stored cluster-wide only,
// answer the reconciler's lookups, from a cache of the whole cluster and
// from one of some namespaces (--watch-namespaces).
func TestIndexes(t *testing.T) {
	g := NewWithT(t)
	h1 := newHarness(t, harnessOptions{})
	h2 := newHarness(t, harnessOptions{})
	ns1, ns2 := h1.namespace, h2.namespace

	// a and b update the same case from two namespaces; both read Secret s1
	// of their own namespace; b names a connection, a and c none.
	a := h1.newObject("a", "case-1", fromSecret("summary", "s1", "k"), fromConfigMap("priority", "c1", "k"))
	b := h1.newObject("b", "case-1", fromSecret("summary", "s1", "k"))
	b.Namespace = ns2
	b.Spec.ConnectionRef = &casesv1alpha1.ConnectionReference{Name: "conn-x"}
	c := h1.newObject("c", "case-2", stringField("summary", "v"))
	for _, o := range []*casesv1alpha1.CaseFieldUpdate{a, b, c} {
		g.Expect(k8sClient.Create(context.Background(), o)).To(Succeed())
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), b) })

	key := func(o *casesv1alpha1.CaseFieldUpdate) reconcile.Request {
		return reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)}
	}
	meta := func(namespace, name string, annotations map[string]string) client.Object {
		return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Annotations: annotations}}
	}
	defaultMark := map[string]string{casesv1alpha1.DefaultConnectionAnnotation: "true"}
	byLabel := map[client.Object]cache.ByObject{
		&casesv1alpha1.CaseFieldUpdate{}: {Label: labels.SelectorFromSet(labels.Set{testLabel: h1.runID})},
	}

	tests := map[string]cache.Options{
		"whole cluster":      {Scheme: scheme, ByObject: byLabel},
		"watched namespaces": {Scheme: scheme, ByObject: byLabel, DefaultNamespaces: map[string]cache.Config{ns1: {}, ns2: {}}},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			cl := indexedClient(t, opts)
			r := &CaseFieldUpdateReconciler{Client: cl}
			ctx := context.Background()
			g.Eventually(func(g Gomega) {
				list := &casesv1alpha1.CaseFieldUpdateList{}
				g.Expect(cl.List(ctx, list)).To(Succeed())
				g.Expect(list.Items).To(HaveLen(3))
			}).Should(Succeed())

			peers, err := r.sameCase(ctx, a)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(peers).To(HaveLen(1))
			g.Expect(key(&peers[0])).To(Equal(key(b)))
			g.Expect(r.peersOf(ctx, b)).To(ConsistOf(key(a)))
			g.Expect(r.peersOf(ctx, c)).To(BeEmpty())

			g.Expect(r.usersOf(ctx, meta("", "conn-x", nil))).To(ConsistOf(key(b)))
			g.Expect(r.usersOf(ctx, meta("", "conn-d", defaultMark))).To(ConsistOf(key(a), key(c)))
			g.Expect(r.usersOf(ctx, meta("", "conn-d", nil))).To(BeEmpty())

			// The readers of a Secret come with their neighbours on the
			// same case, across namespaces.
			g.Expect(r.readersOf(ctx, ns1, []string{"a"})).To(ConsistOf(key(a), key(b)))
			g.Expect(r.readersOf(ctx, ns2, []string{"b"})).To(ConsistOf(key(b), key(a)))
			g.Expect(r.readersOf(ctx, ns1, []string{"c"})).To(ConsistOf(key(c)))
		})
	}
}

// indexedClient returns a client that reads from a started cache with the
// reconciler's two indexes, as the manager registers them.
func indexedClient(t *testing.T, opts cache.Options) client.Client {
	t.Helper()
	g := NewWithT(t)
	c, err := cache.New(restConfig, opts)
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	g.Expect(indexField(ctx, c, caseIndexKey, indexByCase)).To(Succeed())
	g.Expect(indexField(ctx, c, connectionIndexKey, indexByConnection)).To(Succeed())
	go func() { _ = c.Start(ctx) }()
	g.Expect(c.WaitForCacheSync(ctx)).To(BeTrue())
	cl, err := client.New(restConfig, client.Options{Scheme: scheme, Cache: &client.CacheOptions{Reader: c}})
	g.Expect(err).NotTo(HaveOccurred())
	return cl
}
