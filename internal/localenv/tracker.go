package localenv

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// Track is what a Tracker saw of one object.
type Track struct {
	// Created is when the object's create call returned, as reported with
	// Tracker.Created; zero when not reported.
	Created time.Time
	// Ready is when the watch first delivered the object Ready at its
	// current generation; zero while it is not.
	Ready time.Time
	// StatusWrites counts the changes of the status that the watch
	// delivered at an unchanged generation: the status patches that changed
	// something (the API server drops patches that change nothing).
	StatusWrites int

	generation int64
	status     casesv1alpha1.CaseFieldUpdateStatus
}

// StalledSighting is one delivery of an object with Stalled True.
type StalledSighting struct {
	// Name is the object's name.
	Name string
	// Reason and Message are the Stalled condition's.
	Reason, Message string
	// Seen is when the watch delivered it.
	Seen time.Time
}

// Tracker follows the CaseFieldUpdate objects of one namespace (and label
// selector) through a watch that starts before any object exists, so that
// it sees every status write: when each object became Ready, how many
// status writes it took, and whether any object ever reported Stalled.
type Tracker struct {
	c         client.WithWatch
	namespace string
	labels    client.MatchingLabels

	mu       sync.Mutex
	objects  map[string]*Track
	ready    int
	stalled  []StalledSighting
	resyncs  int
	watchErr error
}

// StartTracker lists the objects of namespace that match labels, then
// watches them from that list's resource version until ctx ends.
func StartTracker(ctx context.Context, c client.WithWatch, namespace string, labels map[string]string) (*Tracker, error) {
	t := &Tracker{c: c, namespace: namespace, labels: labels, objects: map[string]*Track{}}
	rv, err := t.list(ctx)
	if err != nil {
		return nil, err
	}
	go t.run(ctx, rv)
	return t, nil
}

// list records the current objects and returns the list's resource version.
func (t *Tracker) list(ctx context.Context) (string, error) {
	list := &casesv1alpha1.CaseFieldUpdateList{}
	if err := t.c.List(ctx, list, client.InNamespace(t.namespace), t.labels); err != nil {
		return "", fmt.Errorf("failed to list the objects of namespace %q: %w", t.namespace, err)
	}
	now := time.Now()
	for i := range list.Items {
		t.observe(&list.Items[i], now)
	}
	return list.ResourceVersion, nil
}

// run watches from rv, and watches again from the last resource version it
// saw whenever the API server ends the watch. When that version is too old
// to resume from, it lists again and counts a resync: status writes in the
// gap are then missing from the counts.
func (t *Tracker) run(ctx context.Context, rv string) {
	for ctx.Err() == nil {
		w, err := t.c.Watch(ctx, &casesv1alpha1.CaseFieldUpdateList{},
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}},
			client.InNamespace(t.namespace), t.labels)
		if err != nil {
			t.setErr(err)
			if !Sleep(ctx, time.Second) {
				return
			}
			continue
		}
		var gone bool
		rv, gone = t.consume(w, rv)
		w.Stop()
		if gone {
			t.mu.Lock()
			t.resyncs++
			t.mu.Unlock()
			if newRV, err := t.list(ctx); err == nil {
				rv = newRV
			} else {
				t.setErr(err)
			}
		}
	}
}

// consume handles the events of one watch until it ends, and returns the
// last resource version seen and whether the watch ended because that
// version expired.
func (t *Tracker) consume(w watch.Interface, rv string) (string, bool) {
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Error:
			err := apierrors.FromObject(ev.Object)
			if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
				return rv, true
			}
			t.setErr(err)
			return rv, false
		case watch.Bookmark:
			if obj, ok := ev.Object.(*casesv1alpha1.CaseFieldUpdate); ok {
				rv = obj.ResourceVersion
			}
		case watch.Added, watch.Modified:
			if obj, ok := ev.Object.(*casesv1alpha1.CaseFieldUpdate); ok {
				rv = obj.ResourceVersion
				t.observe(obj, time.Now())
			}
		case watch.Deleted:
			if obj, ok := ev.Object.(*casesv1alpha1.CaseFieldUpdate); ok {
				rv = obj.ResourceVersion
			}
		}
	}
	return rv, false
}

// observe records one delivery of obj.
func (t *Tracker) observe(obj *casesv1alpha1.CaseFieldUpdate, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.objects[obj.Name]
	switch {
	case tr == nil:
		tr = &Track{}
		t.objects[obj.Name] = tr
	case tr.generation == obj.Generation && !equality.Semantic.DeepEqual(tr.status, obj.Status):
		tr.StatusWrites++
	case tr.generation != obj.Generation && !tr.Ready.IsZero():
		// A new generation is not Ready until applied in its turn.
		tr.Ready = time.Time{}
		t.ready--
	}
	tr.generation = obj.Generation
	tr.status = *obj.Status.DeepCopy()
	if tr.Ready.IsZero() && isReadyAtGeneration(obj) {
		tr.Ready = now
		t.ready++
	}
	if c := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.StalledCondition); c != nil && c.Status == metav1.ConditionTrue {
		t.stalled = append(t.stalled, StalledSighting{Name: obj.Name, Reason: c.Reason, Message: c.Message, Seen: now})
	}
}

// isReadyAtGeneration reports whether obj is Ready for its current
// generation.
func isReadyAtGeneration(obj *casesv1alpha1.CaseFieldUpdate) bool {
	c := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.ReadyCondition)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == obj.Generation &&
		obj.Status.ObservedGeneration == obj.Generation
}

// Created records when the create call of the object named name returned.
func (t *Tracker) Created(name string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.objects[name]
	if tr == nil {
		tr = &Track{}
		t.objects[name] = tr
	}
	tr.Created = at
}

// ReadyCount returns how many objects are Ready at their current generation.
func (t *Tracker) ReadyCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ready
}

// Tracks returns a copy of what was seen of every object, by name.
func (t *Tracker) Tracks() map[string]Track {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]Track, len(t.objects))
	for name, tr := range t.objects {
		out[name] = *tr
	}
	return out
}

// Stalled returns every delivery of an object with Stalled True.
func (t *Tracker) Stalled() []StalledSighting {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]StalledSighting(nil), t.stalled...)
}

// Resyncs returns how many times the watch had to list again because the
// API server no longer had the events it missed; status write counts are
// exact only when it is zero.
func (t *Tracker) Resyncs() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.resyncs
}

// Err returns the last error of the watch, if any.
func (t *Tracker) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.watchErr
}

func (t *Tracker) setErr(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.watchErr = err
}

// WaitReady polls until at least n objects are Ready, ctx ends or stop is
// closed (a process exited, say).
func (t *Tracker) WaitReady(ctx context.Context, n int, stop <-chan struct{}) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		got := t.ReadyCount()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d objects Ready: %w", got, n, ctx.Err())
		case <-stop:
			return fmt.Errorf("%d of %d objects Ready when the wait was stopped", t.ReadyCount(), n)
		case <-tick.C:
		}
	}
}

// Sleep waits for d or the end of ctx, and reports whether ctx is still
// live.
func Sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
