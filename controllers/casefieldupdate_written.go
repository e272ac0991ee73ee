package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// Waits for a cache that is behind the reconciler's own last status write.
const (
	// staleCacheWait is how soon an object read from a cache behind its
	// last status write is tried again.
	staleCacheWait = 100 * time.Millisecond
	// maxStaleWait bounds how long a write is waited for: past it the
	// cache is taken as it is.
	maxStaleWait = 10 * time.Second
)

// writtenVersions remembers, for each object whose status the reconciler
// patches, the resourceVersion it patched from, until the cache holds a
// newer one. A reconcile that reads that version from the cache reads a
// status older than the reconciler's own last write: a reconcile that
// starts right after an UpdateCase was applied, because another event
// queued the object meanwhile, would see it unapplied and send it again.
// It waits for the cache instead.
//
// An entry goes when the informer delivers a newer version, when the patch
// fails or changes nothing, when the object is deleted, or, at the latest,
// after maxStaleWait.
type writtenVersions struct {
	mu      sync.Mutex
	pending map[types.UID]writtenFrom
}

// writtenFrom is the resourceVersion a status patch started from, and when.
type writtenFrom struct {
	version string
	at      time.Time
}

// writing records a status patch of uid from version, before it is sent,
// so that the informer's event of its result always finds the entry.
func (w *writtenVersions) writing(uid types.UID, version string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending == nil {
		w.pending = map[types.UID]writtenFrom{}
	}
	w.pending[uid] = writtenFrom{version: version, at: now}
}

// forget drops the entry of uid: its patch failed, changed nothing, or the
// object is gone.
func (w *writtenVersions) forget(uid types.UID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.pending, uid)
}

// observed is told each version of an object that the cache holds: any
// version but the one patched from is at least as new as the write.
func (w *writtenVersions) observed(uid types.UID, version string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if from, ok := w.pending[uid]; ok && from.version != version {
		delete(w.pending, uid)
	}
}

// stale reports whether the cached version of uid is the one its last
// status patch started from, within maxStaleWait of the patch.
func (w *writtenVersions) stale(uid types.UID, version string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	from, ok := w.pending[uid]
	switch {
	case !ok:
		return false
	case from.version != version || now.Sub(from.at) > maxStaleWait:
		delete(w.pending, uid)
		return false
	}
	return true
}

// followWrites tells the reconciler's written versions each version of a
// CaseFieldUpdate that the cache receives.
func (r *CaseFieldUpdateReconciler) followWrites(informers cache.Informers) error {
	inf, err := informers.GetInformer(context.Background(), &casesv1alpha1.CaseFieldUpdate{}, cache.BlockUntilSynced(false))
	if err != nil {
		return fmt.Errorf("failed to follow the status writes of CaseFieldUpdates: %w", err)
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, cur any) {
			if obj := asCaseFieldUpdate(cur); obj != nil {
				r.written.observed(obj.UID, obj.ResourceVersion)
			}
		},
		DeleteFunc: func(o any) {
			if d, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
				o = d.Obj
			}
			if obj := asCaseFieldUpdate(o); obj != nil {
				r.written.forget(obj.UID)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("failed to follow the status writes of CaseFieldUpdates: %w", err)
	}
	return nil
}
