package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/localenv"
)

// rawPeer is the floor of what any controller can reach on this API
// server: a process of its own, like the manager, that watches the run's
// namespace and, for each new object, writes what the operator writes when
// UpdateCase succeeds, and nothing else. One status merge patch with the
// same content (Ready, observedGeneration, the request id, lastAppliedTime
// and status.fields), then the same Event (a Normal Applied, through the
// same client-go events broadcaster and reporting controller as the
// manager's). No informer cache, no AWS call.
type rawPeer struct {
	c        client.Client
	recorder events.EventRecorder
}

// rawPeerFlag is the flag that runs this program as the raw peer.
const rawPeerFlag = "raw-peer-namespace"

// runRawPeer is the raw peer's process: it applies the new objects of
// namespace with workers goroutines until ctx ends.
func runRawPeer(ctx context.Context, kubeconfig, namespace string, workers int) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = -1, -1
	c, err := localenv.NewClient(cfg)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	if err := casesv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: cs.EventsV1()})
	if err := broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		return fmt.Errorf("failed to start the Events: %w", err)
	}
	defer broadcaster.Shutdown()
	p := &rawPeer{c: c, recorder: broadcaster.NewRecorder(scheme, "connectcases-operator")}

	list := &casesv1alpha1.CaseFieldUpdateList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return err
	}
	w, err := c.Watch(ctx, &casesv1alpha1.CaseFieldUpdateList{}, client.InNamespace(namespace),
		&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
	if err != nil {
		return err
	}
	defer w.Stop()
	queue := make(chan *casesv1alpha1.CaseFieldUpdate, 1024)
	var (
		done   sync.WaitGroup
		failed atomic.Int64
	)
	for range max(1, workers) {
		done.Go(func() {
			for obj := range queue {
				if err := p.write(ctx, obj); err != nil {
					failed.Add(1)
					fmt.Fprintln(os.Stderr, "Status patch failed:", err)
				}
			}
		})
	}
	fmt.Println("Watching", namespace)
	for ev := range w.ResultChan() {
		if obj, ok := ev.Object.(*casesv1alpha1.CaseFieldUpdate); ok && ev.Type == watch.Added {
			queue <- obj
		}
	}
	close(queue)
	done.Wait()
	fmt.Println("Stopped;", failed.Load(), "status patches failed")
	return nil
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
