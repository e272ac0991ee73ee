package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fault kinds. The first ones answer with an error of the Connect Cases
// model; the others answer as the AWS front end or a proxy on the way does,
// with what the model does not list: the client must tell them apart by
// their HTTP status.
const (
	// FaultInternalServer answers 500 InternalServerException.
	FaultInternalServer = "InternalServerException"
	// FaultThrottling answers 429 ThrottlingException.
	FaultThrottling = "ThrottlingException"
	// FaultConnectionReset closes the connection without an answer.
	FaultConnectionReset = "ConnectionReset"
	// FaultLatency delays the call.
	FaultLatency = "Latency"
	// FaultServiceUnavailable answers 503 with the code
	// ServiceUnavailableException, which the model does not list.
	FaultServiceUnavailable = "ServiceUnavailable"
	// FaultBadGateway answers 502 with an HTML page, no error code and no
	// request id, as a load balancer does.
	FaultBadGateway = "BadGateway"
	// FaultGatewayTimeout answers 504 with an empty body, no error code and
	// no request id, as a load balancer does.
	FaultGatewayTimeout = "GatewayTimeout"
	// FaultTooManyRequests answers 429 with the code TooManyRequests, which
	// neither the model nor the SDK's list of throttling codes holds.
	FaultTooManyRequests = "TooManyRequests"
	// FaultExpiredToken answers 403 ExpiredTokenException, the answer of AWS
	// to a request signed with expired temporary credentials.
	FaultExpiredToken = "ExpiredToken"
)

// FaultKinds returns every fault kind, the answering ones first.
func FaultKinds() []string {
	return []string{FaultInternalServer, FaultThrottling, FaultConnectionReset, FaultLatency, FaultServiceUnavailable,
		FaultBadGateway, FaultGatewayTimeout, FaultTooManyRequests, FaultExpiredToken}
}

// answersWithStatus reports whether a fault kind answers with an HTTP error
// status, which may carry a Retry-After header.
func answersWithStatus(kind string) bool {
	return kind != FaultConnectionReset && kind != FaultLatency
}

// Fault makes matching calls fail or slow down. A fault fires for the next
// Count matching calls when Count is set, otherwise with probability Rate.
// Faults are evaluated in order after authentication and before the quota
// and the operation itself, so a failed call never changes the store. Every
// Latency fault that fires adds its delay; the first failing fault that
// fires ends the call.
type Fault struct {
	// Operation is the operation name, such as "UpdateCase", or "*" for all.
	Operation string
	// DomainID, when set, limits the fault to the calls of that domain (the
	// domainId of the request's path).
	DomainID string
	// Kind is one of the Fault* kinds.
	Kind string
	// Rate is the probability, 0 to 1, that a matching call is hit.
	Rate float64
	// Count is how many of the next matching calls are hit.
	Count int
	// RetryAfterSeconds is sent as the Retry-After header by the kinds that
	// answer with an error status (the InternalServerException's
	// retryAfterSeconds); not with ConnectionReset or Latency.
	RetryAfterSeconds int
	// MinLatency and MaxLatency bound the delay of a Latency fault; the delay
	// is drawn uniformly between them. MaxLatency below MinLatency means a
	// fixed MinLatency.
	MinLatency, MaxLatency time.Duration
}

// faultJSON is the JSON form of Fault, with durations as Go duration strings.
type faultJSON struct {
	Operation         string  `json:"operation"`
	DomainID          string  `json:"domainId,omitempty"`
	Kind              string  `json:"kind"`
	Rate              float64 `json:"rate,omitempty"`
	Count             int     `json:"count,omitempty"`
	RetryAfterSeconds int     `json:"retryAfterSeconds,omitempty"`
	MinLatency        string  `json:"minLatency,omitempty"`
	MaxLatency        string  `json:"maxLatency,omitempty"`
}

// MarshalJSON encodes the fault with durations such as "50ms".
func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{Operation: f.Operation, DomainID: f.DomainID, Kind: f.Kind, Rate: f.Rate, Count: f.Count, RetryAfterSeconds: f.RetryAfterSeconds}
	if f.MinLatency != 0 {
		j.MinLatency = f.MinLatency.String()
	}
	if f.MaxLatency != 0 {
		j.MaxLatency = f.MaxLatency.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes a fault whose durations are Go duration strings.
func (f *Fault) UnmarshalJSON(data []byte) error {
	var j faultJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	out := Fault{Operation: j.Operation, DomainID: j.DomainID, Kind: j.Kind, Rate: j.Rate, Count: j.Count, RetryAfterSeconds: j.RetryAfterSeconds}
	for _, d := range []struct {
		src string
		dst *time.Duration
	}{{j.MinLatency, &out.MinLatency}, {j.MaxLatency, &out.MaxLatency}} {
		if d.src == "" {
			continue
		}
		v, err := time.ParseDuration(d.src)
		if err != nil {
			return fmt.Errorf("invalid latency %q: %w", d.src, err)
		}
		*d.dst = v
	}
	*f = out
	return nil
}

// Validate reports whether the fault can be injected.
func (f Fault) Validate() error {
	if f.Operation != "*" {
		if _, ok := operationHandlers[f.Operation]; !ok {
			return fmt.Errorf("operation %q is not served by the emulator (use an operation name or \"*\")", f.Operation)
		}
	}
	if !slices.Contains(FaultKinds(), f.Kind) {
		return fmt.Errorf("kind %q is not one of %s", f.Kind, strings.Join(FaultKinds(), ", "))
	}
	if f.Kind == FaultLatency && f.MinLatency <= 0 && f.MaxLatency <= 0 {
		return errors.New("a Latency fault needs minLatency or maxLatency")
	}
	if f.RetryAfterSeconds != 0 && !answersWithStatus(f.Kind) {
		return fmt.Errorf("retryAfterSeconds needs a kind that answers, not %s", f.Kind)
	}
	if math.IsNaN(f.Rate) || f.Rate < 0 || f.Rate > 1 {
		return fmt.Errorf("rate must be between 0 and 1, got %v", f.Rate)
	}
	if f.Count < 0 || f.RetryAfterSeconds < 0 || f.MinLatency < 0 || f.MaxLatency < 0 {
		return errors.New("count, retryAfterSeconds and latencies must not be negative")
	}
	if f.Count == 0 && f.Rate == 0 {
		return errors.New("either count or rate must be set")
	}
	return nil
}

// faultSet holds the faults in force and the state that makes them
// deterministic: remaining counts and one random stream per fault.
type faultSet struct {
	mu      sync.Mutex
	seed    int64
	initial []Fault
	active  []*activeFault
}

// activeFault is a fault with its remaining count and random stream.
type activeFault struct {
	Fault
	remaining int
	rng       *rand.Rand
}

// newFaultSet validates the initial faults and activates them.
func newFaultSet(faults []Fault, seed int64) (*faultSet, error) {
	if err := validateFaults(faults); err != nil {
		return nil, err
	}
	fs := &faultSet{seed: seed, initial: append([]Fault(nil), faults...)}
	fs.set(faults)
	return fs, nil
}

// validateFaults validates each fault.
func validateFaults(faults []Fault) error {
	for i, f := range faults {
		if err := f.Validate(); err != nil {
			return fmt.Errorf("invalid fault %d: %w", i, err)
		}
	}
	return nil
}

// set replaces the faults in force; each one's random stream starts afresh
// from the seed and its position.
func (fs *faultSet) set(faults []Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.active = make([]*activeFault, len(faults))
	for i, f := range faults {
		fs.active[i] = &activeFault{Fault: f, remaining: f.Count, rng: rand.New(rand.NewPCG(uint64(fs.seed), uint64(i)))}
	}
}

// list returns the faults in force, with counts as they remain.
func (fs *faultSet) list() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Fault, 0, len(fs.active))
	for _, a := range fs.active {
		f := a.Fault
		if f.Count > 0 {
			f.Count = a.remaining
		}
		out = append(out, f)
	}
	return out
}

// decide returns the delay to add to a call of op on domainID ("" when the
// call names no domain) and the failing fault to inject, if any.
func (fs *faultSet) decide(op, domainID string) (time.Duration, *Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var delay time.Duration
	for _, a := range fs.active {
		if a.Operation != "*" && a.Operation != op || a.DomainID != "" && a.DomainID != domainID {
			continue
		}
		if !a.fires() {
			continue
		}
		if a.Kind == FaultLatency {
			delay += a.latency()
			continue
		}
		f := a.Fault
		return delay, &f
	}
	return delay, nil
}

// fires consumes one matching call and reports whether the fault hits it.
func (a *activeFault) fires() bool {
	if a.Count > 0 {
		if a.remaining == 0 {
			return false
		}
		a.remaining--
		return true
	}
	return a.rng.Float64() < a.Rate
}

// latency draws the delay of a Latency fault.
func (a *activeFault) latency() time.Duration {
	if a.MaxLatency <= a.MinLatency {
		return a.MinLatency
	}
	return a.MinLatency + time.Duration(a.rng.Int64N(int64(a.MaxLatency-a.MinLatency)+1))
}

// injectFaults applies the faults for the call and reports whether one ended
// it; the response, if any, is written and the call recorded.
func (s *Server) injectFaults(w http.ResponseWriter, r *http.Request, rec *CallRecord) bool {
	delay, f := s.faults.decide(rec.Operation, rec.DomainID)
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			rec.Outcome, rec.Message = "Canceled", "client went away during injected latency"
			s.record(rec)
			return true
		}
	}
	if f == nil {
		return false
	}
	switch f.Kind {
	case FaultInternalServer:
		s.finish(w, rec, internalError("Injected fault: internal server error", f.RetryAfterSeconds), nil)
	case FaultThrottling:
		aerr := throttled("Injected fault: rate exceeded")
		aerr.retryAfterSeconds = f.RetryAfterSeconds
		s.finish(w, rec, aerr, nil)
	case FaultConnectionReset:
		rec.Outcome, rec.Message = OutcomeConnectionReset, "injected fault: connection reset"
		s.record(rec)
		resetConnection(w)
	default:
		s.writeForeignFault(w, rec, f)
	}
	return true
}

// resetConnection closes the client's connection without a response, with
// a TCP reset where it can.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
