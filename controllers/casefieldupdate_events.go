package controllers

import (
	corev1 "k8s.io/api/core/v1"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// event is an Event about the reconciled object, emitted after the status
// patch.
type event struct {
	eventType string
	reason    string
	action    string
	note      string
}

// queue adds an Event decided by a phase (Applied, DriftDetected).
func (s *scope) queue(eventType, reason, note string) {
	s.queued = append(s.queued, event{eventType: eventType, reason: reason, action: "UpdateCase", note: note})
}

// eventsToEmit returns the Events of a reconcile. The Events policy:
//   - Normal Applied for every UpdateCase that succeeded (each generation
//     once, and each repair or re-apply), so that the Events are an audit
//     trail of the writes made to the case;
//   - Warning DriftDetected when an Enforce object repairs a drift;
//   - a Warning with the failure's reason when the reason of the object's
//     Reconciling or Stalled condition changes, so that a run of the same
//     failure (throttling) does not flood the Events;
//   - Normal Paused when the object becomes paused.
func (s *scope) eventsToEmit() []event {
	out := s.queued
	if p := problem(s.obj); p != nil {
		if before := problem(s.before); before == nil || before.Reason != p.Reason {
			out = append(out, event{eventType: corev1.EventTypeWarning, reason: p.Reason, action: actionOf(s.work), note: p.Message})
		}
	}
	if readyReason(s.obj) == casesv1alpha1.PausedReason && readyReason(s.before) != casesv1alpha1.PausedReason {
		out = append(out, event{eventType: corev1.EventTypeNormal, reason: casesv1alpha1.PausedReason, action: "Pause", note: readyMessage(s.obj)})
	}
	return out
}

// actionOf names the action an Event reports on for the reconcile's work.
func actionOf(w work) string {
	if w == workApply {
		return "UpdateCase"
	}
	return "Check"
}
