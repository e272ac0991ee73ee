package controllers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// refKind is the kind of a Secret or ConfigMap that valueFrom reads.
type refKind uint8

const (
	secretRef refKind = iota + 1
	configMapRef
)

// refKinds maps the kinds of status.references to their refKind.
var refKinds = map[string]refKind{"Secret": secretRef, "ConfigMap": configMapRef}

// refResources are the resources the reference watch lists and watches.
var refResources = map[refKind]schema.GroupVersionResource{
	secretRef:    {Version: "v1", Resource: "secrets"},
	configMapRef: {Version: "v1", Resource: "configmaps"},
}

// refKey names a Secret or ConfigMap.
type refKey struct {
	kind      refKind
	namespace string
	name      string
}

// newRefKey returns the key of a Secret or ConfigMap; its namespace is
// the shared copy of that string, as in the cache.
func newRefKey(kind refKind, namespace, name string) refKey {
	return refKey{kind: kind, namespace: unique.Make(namespace).Value(), name: name}
}

// refState is what the reference watch knows of one Secret or ConfigMap.
type refState struct {
	// version is the resourceVersion the watch saw last; "" when the
	// Secret or ConfigMap does not exist.
	version string
	// readers are the names of the CaseFieldUpdates of its namespace that
	// read it: by their spec, by their last attempt (status.references),
	// or by an attempt under way.
	readers []string
}

// referenceWatch follows the Secrets and ConfigMaps that valueFrom may
// read, without a cache of them: it lists and watches their metadata and
// keeps, for each, only its resourceVersion and the names of the
// CaseFieldUpdates that read it, under 200 bytes where an informer
// keeps the object's whole metadata, a key and an index entry. A changed
// or deleted Secret or ConfigMap sends its readers, and their neighbours on
// the same case, to the reconciler; referencesChanged compares the
// versions that an object's last attempt read with those the watch saw.
//
// It is the controller's source of those events (a SyncingSource): the
// controller starts its workers only once the first list of each kind, and
// the readers of every cached CaseFieldUpdate, are known.
//
// Readers come from two places. The CaseFieldUpdate informer's events set
// each object's readers from its spec and its status.references; an
// attempt adds its object as a reader of each Secret and ConfigMap before
// it reads it, so that a change made after the read always finds the
// object, even before the informer's event.
type referenceWatch struct {
	config     *rest.Config
	httpClient *http.Client
	// namespaces are those the manager's cache is restricted to; none
	// means the whole cluster.
	namespaces []string
	informers  cache.Informers
	// requests maps the readers of a changed Secret or ConfigMap to the
	// requests to enqueue: the readers and their neighbours.
	requests func(ctx context.Context, namespace string, names []string) []reconcile.Request

	mu   sync.RWMutex
	refs map[refKey]refState

	// unlisted counts the reflectors that have not stored their first
	// list yet; the last one closes listed.
	unlisted atomic.Int32
	listed   chan struct{}
	// synced is closed once every reflector has stored its first list and
	// the informer's handler has seen every cached object.
	synced  chan struct{}
	started bool
}

// newReferenceWatch returns the reference watch of a manager's cluster.
func newReferenceWatch(config *rest.Config, httpClient *http.Client, informers cache.Informers, namespaces []string,
	requests func(ctx context.Context, namespace string, names []string) []reconcile.Request) *referenceWatch {
	return &referenceWatch{
		config: config, httpClient: httpClient, informers: informers, namespaces: namespaces, requests: requests,
		refs: map[refKey]refState{}, listed: make(chan struct{}), synced: make(chan struct{}),
	}
}

// Start lists and watches the Secrets and ConfigMaps of the watched
// namespaces, and follows the readers of every CaseFieldUpdate. It returns
// at once; the watch stops with ctx.
func (w *referenceWatch) Start(ctx context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	w.mu.Lock()
	if w.started {
		w.mu.Unlock()
		return fmt.Errorf("the reference watch was already started")
	}
	w.started = true
	w.mu.Unlock()

	inf, err := w.informers.GetInformer(ctx, &casesv1alpha1.CaseFieldUpdate{}, cache.BlockUntilSynced(false))
	if err != nil {
		return err
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(o any) { w.setReaders(nil, asCaseFieldUpdate(o)) },
		UpdateFunc: func(old, cur any) {
			w.setReaders(asCaseFieldUpdate(old), asCaseFieldUpdate(cur))
		},
		DeleteFunc: func(o any) {
			if d, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
				o = d.Obj
			}
			w.setReaders(asCaseFieldUpdate(o), nil)
		},
	})
	if err != nil {
		return err
	}

	cfg := rest.CopyConfig(w.config)
	cfg.NegotiatedSerializer = nil
	mc, err := metadata.NewForConfigAndClient(cfg, w.httpClient)
	if err != nil {
		return err
	}
	namespaces := w.namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	enqueue := func(namespace string, names []string) {
		for _, req := range w.requests(ctx, namespace, names) {
			queue.Add(req)
		}
	}
	w.unlisted.Store(int32(len(refResources) * len(namespaces)))
	for kind, gvr := range refResources {
		for _, ns := range namespaces {
			store := &refStore{w: w, kind: kind, namespace: ns, enqueue: enqueue}
			r := toolscache.NewReflectorWithOptions(refListWatch(mc.Resource(gvr), ns), &metav1.PartialObjectMetadata{}, store,
				toolscache.ReflectorOptions{Name: "valueFrom " + gvr.Resource, TypeDescription: gvr.Resource + " (metadata)"})
			go r.RunWithContext(ctx)
		}
	}
	go func() {
		select {
		case <-w.listed:
		case <-ctx.Done():
			return
		}
		if toolscache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
			close(w.synced)
		}
	}()
	go func() {
		<-ctx.Done()
		_ = inf.RemoveEventHandler(reg)
	}()
	return nil
}

// WaitForSync waits until the first lists are stored and the readers of
// every cached object known.
func (w *referenceWatch) WaitForSync(ctx context.Context) error {
	select {
	case <-w.synced:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("the watch of the Secrets and ConfigMaps that valueFrom reads did not sync: %w", ctx.Err())
	}
}

// String names the source in the controller's logs.
func (w *referenceWatch) String() string { return "valueFrom Secrets and ConfigMaps (metadata)" }

// refListWatch lists and watches the metadata of one resource in
// namespace ("" for all).
func refListWatch(res metadata.Getter, namespace string) *toolscache.ListWatch {
	var ri metadata.ResourceInterface = res
	if namespace != metav1.NamespaceAll {
		ri = res.Namespace(namespace)
	}
	return &toolscache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return ri.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.Watch = true
			return ri.Watch(ctx, opts)
		},
	}
}

// version returns the resourceVersion the watch last saw of a Secret or
// ConfigMap, "" if it does not exist.
func (w *referenceWatch) version(key refKey) string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.refs[key].version
}

// addReader records that the object name of key's namespace reads key. An
// attempt calls it before it reads the Secret or ConfigMap. The informer's
// next event of the object then sets its readings from its spec and status;
// an attempt of a spec that was already replaced may leave the name among
// the readers of a Secret the object no longer reads, which costs a
// reconcile that finds nothing to do when that Secret changes.
func (w *referenceWatch) addReader(key refKey, name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.refs[key]
	if !slices.Contains(st.readers, name) {
		st.readers = append(st.readers, name)
		w.refs[key] = st
	}
}

// setReaders moves an object's readings from what old reads to what cur
// reads; either may be nil.
func (w *referenceWatch) setReaders(old, cur *casesv1alpha1.CaseFieldUpdate) {
	before, after := readsOf(old), readsOf(cur)
	if len(before) == 0 && len(after) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, key := range before {
		if slices.Contains(after, key) {
			continue
		}
		st, ok := w.refs[key]
		if !ok {
			continue
		}
		st.readers = slices.DeleteFunc(st.readers, func(n string) bool { return n == old.Name })
		w.put(key, st)
	}
	for _, key := range after {
		st := w.refs[key]
		if !slices.Contains(st.readers, cur.Name) {
			st.readers = append(st.readers, cur.Name)
			w.refs[key] = st
		}
	}
}

// observe records the version the watch saw of key, "" when it was deleted,
// and returns its readers when the version changed.
func (w *referenceWatch) observe(key refKey, version string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.refs[key]
	if st.version == version {
		return nil
	}
	st.version = version
	w.put(key, st)
	return slices.Clone(st.readers)
}

// put stores st, or forgets key when nothing is left to know of it. The
// caller holds w.mu.
func (w *referenceWatch) put(key refKey, st refState) {
	if st.version == "" && len(st.readers) == 0 {
		delete(w.refs, key)
		return
	}
	if len(st.readers) == 0 {
		st.readers = nil
	}
	w.refs[key] = st
}

// replace stores a whole list of one kind in namespace ("" for all) and
// returns the readers of those whose version changed, deleted ones
// included.
func (w *referenceWatch) replace(kind refKind, namespace string, items []any) map[string][]string {
	seen := make(map[refKey]bool, len(items))
	changed := map[string][]string{}
	for _, o := range items {
		m, ok := o.(metav1.Object)
		if !ok {
			continue
		}
		key := newRefKey(kind, m.GetNamespace(), m.GetName())
		seen[key] = true
		if readers := w.observe(key, m.GetResourceVersion()); len(readers) > 0 {
			changed[key.namespace] = append(changed[key.namespace], readers...)
		}
	}
	w.mu.Lock()
	var gone []refKey
	for key, st := range w.refs {
		if key.kind == kind && (namespace == metav1.NamespaceAll || key.namespace == namespace) && st.version != "" && !seen[key] {
			gone = append(gone, key)
		}
	}
	w.mu.Unlock()
	for _, key := range gone {
		if readers := w.observe(key, ""); len(readers) > 0 {
			changed[key.namespace] = append(changed[key.namespace], readers...)
		}
	}
	for ns, names := range changed {
		slices.Sort(names)
		changed[ns] = slices.Compact(names)
	}
	return changed
}

// readsOf returns the Secrets and ConfigMaps that obj reads: those its
// spec names and those its last attempt read.
func readsOf(obj *casesv1alpha1.CaseFieldUpdate) []refKey {
	if obj == nil {
		return nil
	}
	var out []refKey
	add := func(kind refKind, name string) {
		key := newRefKey(kind, obj.Namespace, name)
		if !slices.Contains(out, key) {
			out = append(out, key)
		}
	}
	for _, f := range obj.Spec.Fields {
		if vf := f.Value.ValueFrom; vf != nil {
			if vf.SecretKeyRef != nil {
				add(secretRef, vf.SecretKeyRef.Name)
			}
			if vf.ConfigMapKeyRef != nil {
				add(configMapRef, vf.ConfigMapKeyRef.Name)
			}
		}
	}
	for _, ref := range obj.Status.References {
		if kind, ok := refKinds[ref.Kind]; ok {
			add(kind, ref.Name)
		}
	}
	return out
}

// asCaseFieldUpdate returns o as a CaseFieldUpdate, nil if it is not one.
func asCaseFieldUpdate(o any) *casesv1alpha1.CaseFieldUpdate {
	obj, _ := o.(*casesv1alpha1.CaseFieldUpdate)
	return obj
}

// refStore receives one reflector's lists and events: it keeps nothing of
// the objects but their versions, in the reference watch.
type refStore struct {
	w         *referenceWatch
	kind      refKind
	namespace string
	enqueue   func(namespace string, names []string)
	// listed is set once the first list is stored: the objects that read
	// what it holds are reconciled on their own start, so only later
	// changes are sent to the reconciler.
	listed bool
}

var _ toolscache.ReflectorStore = &refStore{}

func (s *refStore) Add(o any) error    { return s.set(o, false) }
func (s *refStore) Update(o any) error { return s.set(o, false) }
func (s *refStore) Delete(o any) error { return s.set(o, true) }
func (s *refStore) Resync() error      { return nil }

// set records one event's version, and sends the readers when it changed.
func (s *refStore) set(o any, deleted bool) error {
	if d, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	m, ok := o.(metav1.Object)
	if !ok {
		return fmt.Errorf("object of type %T has no metadata", o)
	}
	version := m.GetResourceVersion()
	if deleted {
		version = ""
	}
	key := newRefKey(s.kind, m.GetNamespace(), m.GetName())
	if readers := s.w.observe(key, version); len(readers) > 0 && s.listed {
		s.enqueue(key.namespace, readers)
	}
	return nil
}

// Replace stores a list: the first one, or a new one after the watch was
// lost, in which case the readers of what changed meanwhile are sent.
func (s *refStore) Replace(items []any, _ string) error {
	changed := s.w.replace(s.kind, s.namespace, items)
	if !s.listed {
		s.listed = true
		if s.w.unlisted.Add(-1) == 0 {
			close(s.w.listed)
		}
		return nil
	}
	for ns, names := range changed {
		s.enqueue(ns, names)
	}
	return nil
}

// readersOf returns the requests for the readers of a changed Secret or
// ConfigMap, in namespace, and for their neighbours on the same case: a new
// value may start or end a field conflict on either side.
func (r *CaseFieldUpdateReconciler) readersOf(ctx context.Context, namespace string, names []string) []reconcile.Request {
	seen := map[types.NamespacedName]bool{}
	var reqs []reconcile.Request
	add := func(key types.NamespacedName) {
		if !seen[key] {
			seen[key] = true
			reqs = append(reqs, reconcile.Request{NamespacedName: key})
		}
	}
	for _, name := range names {
		key := types.NamespacedName{Namespace: namespace, Name: name}
		add(key)
		obj := &casesv1alpha1.CaseFieldUpdate{}
		if err := r.Get(ctx, key, obj); err != nil {
			continue
		}
		for _, peer := range r.peersOf(ctx, obj) {
			add(peer.NamespacedName)
		}
	}
	return reqs
}

// referencesChanged reports whether a Secret or ConfigMap that the last
// attempt read has changed (or gone) since: the object must then run again.
func (r *CaseFieldUpdateReconciler) referencesChanged(obj *casesv1alpha1.CaseFieldUpdate) bool {
	if !r.EnableValueFrom || r.references == nil {
		return false
	}
	for _, ref := range obj.Status.References {
		kind, ok := refKinds[ref.Kind]
		if !ok || r.references.version(newRefKey(kind, obj.Namespace, ref.Name)) != ref.ResourceVersion {
			return true
		}
	}
	return false
}
