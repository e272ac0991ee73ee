package emulator

import (
	"encoding/json"
	"sync"
	"time"
)

// recentCalls is how many calls the log keeps in full.
const recentCalls = 1000

// CallRecord describes one request the emulator answered.
type CallRecord struct {
	// Time is when the request arrived, by the emulator's clock.
	Time time.Time `json:"time"`
	// RequestID is the x-amzn-RequestId the response carried, "" when it
	// carried none.
	RequestID string `json:"requestId"`
	// Operation is the operation name, or "Unknown".
	Operation string `json:"operation"`
	// Outcome is "OK", the error code, or the fault kind of an injected
	// answer without a code ("ConnectionReset", "BadGateway",
	// "GatewayTimeout").
	Outcome string `json:"outcome"`
	// Status is the HTTP status sent, zero when none was.
	Status int `json:"status"`
	// Message is the error message, if any.
	Message string `json:"message,omitempty"`
	// AccessKeyID is the access key the request was signed with.
	AccessKeyID string `json:"accessKeyId,omitempty"`
	// DomainID is the domain of the request's path, if any.
	DomainID string `json:"domainId,omitempty"`
	// Method is the request's HTTP method.
	Method string `json:"method"`
	// Path is the request's URL path.
	Path string `json:"path"`
	// Body is the request body: its JSON, or its text as a JSON string.
	Body json.RawMessage `json:"body,omitempty"`
}

// CallStats summarises the calls since start or the last reset.
type CallStats struct {
	// Counts holds, by operation, the number of calls per outcome.
	Counts map[string]map[string]int `json:"counts"`
	// Recent lists the last calls, oldest first.
	Recent []CallRecord `json:"recent"`
	// InFlight is the number of AWS requests being served now: received,
	// not yet answered (or reset), so not yet in Counts.
	InFlight int `json:"inFlight"`
}

// callLog counts every call and keeps the most recent ones in a ring.
type callLog struct {
	mu     sync.Mutex
	counts map[string]map[string]int
	ring   []CallRecord
	next   int
	// inFlight counts the requests begun and not yet ended.
	inFlight int
}

// begin counts a request that starts being served.
func (l *callLog) begin() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight++
}

// end counts a request that was answered, recorded or not.
func (l *callLog) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
}

// newCallLog returns an empty log.
func newCallLog() *callLog {
	return &callLog{counts: map[string]map[string]int{}}
}

// add records a call.
func (l *callLog) add(rec CallRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	byOutcome := l.counts[rec.Operation]
	if byOutcome == nil {
		byOutcome = map[string]int{}
		l.counts[rec.Operation] = byOutcome
	}
	byOutcome[rec.Outcome]++
	if len(l.ring) < recentCalls {
		l.ring = append(l.ring, rec)
		return
	}
	l.ring[l.next] = rec
	l.next = (l.next + 1) % recentCalls
}

// count returns the calls of an operation with an outcome; an empty
// operation or outcome matches all.
func (l *callLog) count(operation, outcome string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for op, byOutcome := range l.counts {
		if operation != "" && op != operation {
			continue
		}
		for oc, c := range byOutcome {
			if outcome == "" || oc == outcome {
				n += c
			}
		}
	}
	return n
}

// stats returns a copy of the counts and recent calls.
func (l *callLog) stats() CallStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := CallStats{Counts: make(map[string]map[string]int, len(l.counts)), Recent: make([]CallRecord, 0, len(l.ring)), InFlight: l.inFlight}
	for op, byOutcome := range l.counts {
		c := make(map[string]int, len(byOutcome))
		for k, v := range byOutcome {
			c[k] = v
		}
		st.Counts[op] = c
	}
	st.Recent = append(st.Recent, l.ring[l.next:]...)
	st.Recent = append(st.Recent, l.ring[:l.next]...)
	return st
}

// clear forgets every finished call; requests in flight stay counted.
func (l *callLog) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts = map[string]map[string]int{}
	l.ring = nil
	l.next = 0
}
