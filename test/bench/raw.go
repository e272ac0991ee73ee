package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/localenv"
)

// rawPeer is the floor of what any controller can reach on this API
// server: for each object it writes what the operator writes when UpdateCase
// succeeds, and nothing else. One status merge patch with the same content
// (Ready, observedGeneration, the request id, lastAppliedTime and
// status.fields), then the same Event (a Normal Applied, through the same
// client-go events broadcaster and reporting controller as the manager's).
// No informer, no AWS call.
type rawPeer struct {
	c           client.Client
	broadcaster events.EventBroadcaster
	recorder    events.EventRecorder
	cancel      context.CancelFunc
	objs        chan *casesv1alpha1.CaseFieldUpdate
	done        sync.WaitGroup
	failed      atomic.Int64
}

// startRawPeer starts workers that apply the objects given to apply.
func startRawPeer(ctx context.Context, cfg *rest.Config, workers, n int) (*rawPeer, error) {
	c, err := localenv.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, -1
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := casesv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &rawPeer{c: c, cancel: cancel, objs: make(chan *casesv1alpha1.CaseFieldUpdate, n)}
	p.broadcaster = events.NewBroadcaster(&events.EventSinkImpl{Interface: cs.EventsV1()})
	if err := p.broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("failed to start the raw peer's Events: %w", err)
	}
	p.recorder = p.broadcaster.NewRecorder(scheme, "connectcases-operator")
	for range workers {
		p.done.Go(func() {
			for obj := range p.objs {
				if err := p.write(ctx, obj); err != nil {
					p.failed.Add(1)
				}
			}
		})
	}
	return p, nil
}

// apply queues obj, as the create call returned it.
func (p *rawPeer) apply(obj *casesv1alpha1.CaseFieldUpdate) { p.objs <- obj }

// close says that every object was queued.
func (p *rawPeer) close() { close(p.objs) }

// wait waits for the workers and returns how many status patches failed.
func (p *rawPeer) wait() int64 {
	p.done.Wait()
	return p.failed.Load()
}

// stop ends the Events broadcaster.
func (p *rawPeer) stop() {
	p.broadcaster.Shutdown()
	p.cancel()
}

// write patches obj's status as the manager does when UpdateCase succeeds,
// then emits its Applied Event.
func (p *rawPeer) write(ctx context.Context, obj *casesv1alpha1.CaseFieldUpdate) error {
	before := obj.DeepCopy()
	now := metav1.Now()
	message := fmt.Sprintf("Applied %d fields to case %s in domain %s", len(obj.Spec.Fields), obj.Spec.CaseID, obj.Spec.DomainID)
	st := &obj.Status
	st.ObservedGeneration = obj.Generation
	st.LastAppliedTime = &now
	st.LastRequestID = rand.Text()
	st.Failures = 0
	st.Fields = localenv.WorkloadResolvedFields()
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: casesv1alpha1.ReadyCondition, Status: metav1.ConditionTrue, Reason: casesv1alpha1.AppliedReason,
		Message: message, ObservedGeneration: obj.Generation,
	})
	if err := p.c.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return err
	}
	p.recorder.Eventf(obj, nil, corev1.EventTypeNormal, casesv1alpha1.AppliedReason, "UpdateCase", "%s", message)
	return nil
}
