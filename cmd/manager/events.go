package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	eventsclient "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/reference"
	ctrl "sigs.k8s.io/controller-runtime"
)

// eventQueueSize bounds the Events waiting to be sent; beyond it an Event
// is dropped, as client-go's broadcaster drops them, rather than blocking a
// reconcile.
const eventQueueSize = 1000

// eventAttempts is how many times an Event is sent before it is given up.
const eventAttempts = 3

// eventSenders is how many Events are sent at once: one at a time would
// trail a manager that applies a hundred objects a second.
const eventSenders = 8

// eventRecorder sends the reconciler's Events to the API server as they are
// recorded, through a bounded queue. Unlike client-go's events broadcaster
// it keeps nothing once an Event is sent: the broadcaster keeps a copy of
// every Event for 6 to 12 minutes, to turn repeats into an Event series,
// which at one Applied Event per object is about 10 MiB of live heap for
// 10,000 objects. The operator's Events policy already keeps repeats rare (a
// Warning only when the failure's reason changes), so each Event is created
// on its own.
type eventRecorder struct {
	scheme     *runtime.Scheme
	sink       eventsclient.EventsGetter
	controller string
	instance   string
	queue      chan *eventsv1.Event
	retryWait  time.Duration
}

var _ events.EventRecorder = (*eventRecorder)(nil)

// newEventRecorder returns a recorder that reports as controller; the
// reporting instance is controller-hostname, as client-go names it.
func newEventRecorder(scheme *runtime.Scheme, sink eventsclient.EventsGetter, controller string) *eventRecorder {
	host, _ := os.Hostname()
	return &eventRecorder{scheme: scheme, sink: sink, controller: controller, instance: controller + "-" + host,
		queue: make(chan *eventsv1.Event, eventQueueSize), retryWait: time.Second}
}

// Eventf queues an Event about regarding. It never blocks: a full queue
// drops the Event, with a log line.
func (r *eventRecorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	log := ctrl.Log.WithName("events")
	ref, err := reference.GetReference(r.scheme, regarding)
	if err != nil {
		log.Error(err, "Cannot refer to the object of an Event", "reason", reason)
		return
	}
	if eventtype != corev1.EventTypeNormal && eventtype != corev1.EventTypeWarning {
		log.Error(nil, "Unsupported Event type", "eventType", eventtype, "reason", reason)
		return
	}
	now := time.Now()
	namespace := ref.Namespace
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	ev := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", ref.Name, now.UnixNano()), Namespace: namespace},
		EventTime:           metav1.NewMicroTime(now),
		ReportingController: r.controller,
		ReportingInstance:   r.instance,
		Action:              action,
		Reason:              reason,
		Regarding:           *ref,
		Note:                fmt.Sprintf(note, args...),
		Type:                eventtype,
	}
	if related != nil {
		if rel, err := reference.GetReference(r.scheme, related); err == nil {
			ev.Related = rel
		}
	}
	select {
	case r.queue <- ev:
	default:
		log.Info("Event dropped: too many Events waiting", "reason", reason, "name", ref.Name, "namespace", ref.Namespace)
	}
}

// Start sends the queued Events, eventSenders at a time, until ctx ends. It
// runs on every replica: only the leader records Events.
func (r *eventRecorder) Start(ctx context.Context) error {
	var wg sync.WaitGroup
	for range eventSenders {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-r.queue:
					r.send(ctx, ev)
				}
			}
		})
	}
	wg.Wait()
	return nil
}

// NeedLeaderElection is false: the recorder serves whichever replica leads.
func (r *eventRecorder) NeedLeaderElection() bool { return false }

// send creates one Event, trying again after a short wait when the API
// server could not take it; an Event it refuses is given up at once.
func (r *eventRecorder) send(ctx context.Context, ev *eventsv1.Event) {
	var err error
	for attempt := 1; attempt <= eventAttempts; attempt++ {
		_, err = r.sink.Events(ev.Namespace).Create(ctx, ev, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) || apierrors.IsInvalid(err) || apierrors.IsForbidden(err) ||
			apierrors.IsNotFound(err) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(r.retryWait):
		}
	}
	if err != nil && !apierrors.IsAlreadyExists(err) && ctx.Err() == nil {
		ctrl.Log.WithName("events").Error(err, "Event not recorded", "reason", ev.Reason, "name", ev.Regarding.Name, "namespace", ev.Regarding.Namespace)
	}
}

// managerEventRecorder returns an eventRecorder that reports as
// connectcases-operator through mgr's connection, and runs with mgr.
func managerEventRecorder(mgr ctrl.Manager, scheme *runtime.Scheme) (*eventRecorder, error) {
	cs, err := kubernetes.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return nil, fmt.Errorf("failed to create the Events client: %w", err)
	}
	rec := newEventRecorder(scheme, cs.EventsV1(), "connectcases-operator")
	if err := mgr.Add(rec); err != nil {
		return nil, fmt.Errorf("failed to add the Events recorder: %w", err)
	}
	return rec, nil
}
