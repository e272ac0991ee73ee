package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxBodyBytes bounds a request body; no Connect Cases request comes near it.
const maxBodyBytes = 4 << 20

// Options configures a Server.
type Options struct {
	// Region is the AWS region of the emulated endpoint, for example
	// "us-east-1": requests must be signed for it, and ARNs name it.
	Region string
	// AccountID is the account ARNs name; empty means DefaultAccountID.
	AccountID string
	// Principals are the credentials the emulator accepts, merged with
	// Seed.Principals. A request signed with any other key is refused.
	Principals []Principal
	// Quotas override the default quota of the named operations.
	Quotas map[string]Quota
	// Seed is the initial state, restored by Reset; nil means empty.
	Seed *Seed
	// Faults are injected from the start, and restored by a reset that asks
	// for it.
	Faults []Fault
	// RandomSeed makes rate-based faults and latency ranges deterministic.
	RandomSeed int64
	// Now is the clock used for signature dates and quotas; nil means
	// time.Now.
	Now func() time.Time
	// GetCasePageSize is how many field values one GetCase page holds; zero
	// means 100.
	GetCasePageSize int
	// Logger receives one debug record per request; nil discards.
	Logger *slog.Logger
}

// Server emulates the Amazon Connect Cases API over an in-memory store. It is
// an http.Handler, safe for concurrent use.
type Server struct {
	region     string
	account    string
	now        func() time.Time
	pageSize   int
	log        *slog.Logger
	model      *serviceModel
	principals map[string]Principal
	iam        *iamState
	seed       *Seed
	store      *store
	quotas     *quotaSet
	faults     *faultSet
	calls      *callLog
	mux        *http.ServeMux
	// resetMu serialises Reset against itself.
	resetMu sync.Mutex
}

// operationHandler serves one operation after authentication, fault
// injection, quota and input validation. It returns the response body, or
// nil for an empty one.
type operationHandler func(s *Server, c *call) (any, *apiError)

// operationHandlers are the operations the emulator serves.
var operationHandlers = map[string]operationHandler{
	"CreateDomain":         (*Server).createDomain,
	"GetDomain":            (*Server).getDomain,
	"ListDomains":          (*Server).listDomains,
	"CreateField":          (*Server).createField,
	"ListFields":           (*Server).listFields,
	"BatchGetField":        (*Server).batchGetField,
	"BatchPutFieldOptions": (*Server).batchPutFieldOptions,
	"ListFieldOptions":     (*Server).listFieldOptions,
	"CreateTemplate":       (*Server).createTemplate,
	"CreateCase":           (*Server).createCase,
	"GetCase":              (*Server).getCase,
	"UpdateCase":           (*Server).updateCase,
	"SearchCases":          (*Server).searchCases,
}

// Operations returns the names of the operations the emulator serves.
func Operations() []string {
	return sortedKeys(operationHandlers)
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// call is one request on its way through the pipeline.
type call struct {
	op        *modelOperation
	r         *http.Request
	requestID string
	principal Principal
	input     map[string]any
}

// New returns a Server configured by opts.
func New(opts Options) (*Server, error) {
	if opts.Region == "" {
		return nil, errors.New("region must be set")
	}
	model, err := getModel()
	if err != nil {
		return nil, fmt.Errorf("failed to load the service model: %w", err)
	}
	s := &Server{
		region: opts.Region, account: opts.AccountID, now: opts.Now, pageSize: opts.GetCasePageSize,
		log: opts.Logger, model: model, seed: opts.Seed, calls: newCallLog(),
	}
	if s.account == "" {
		s.account = DefaultAccountID
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.pageSize <= 0 {
		s.pageSize = 100
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	principals := append([]Principal(nil), opts.Principals...)
	if opts.Seed != nil {
		principals = append(principals, opts.Seed.Principals...)
	}
	if s.principals, err = indexPrincipals(principals); err != nil {
		return nil, err
	}
	if s.iam, err = newIAM(opts.Seed); err != nil {
		return nil, err
	}
	if s.quotas, err = newQuotaSet(opts.Quotas); err != nil {
		return nil, err
	}
	if s.faults, err = newFaultSet(opts.Faults, opts.RandomSeed); err != nil {
		return nil, err
	}
	if s.store, err = buildStore(opts.Seed, s.region, s.account, s.now()); err != nil {
		return nil, err
	}
	if s.mux, err = s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// routes registers every served operation at its model path, the admin API,
// and a catch-all for everything else.
func (s *Server) routes() (*http.ServeMux, error) {
	mux := http.NewServeMux()
	for _, name := range Operations() {
		op, ok := s.model.operations[name]
		if !ok || op.method == "" {
			return nil, fmt.Errorf("operation %s has no HTTP binding in the service model", name)
		}
		handle := operationHandlers[name]
		mux.HandleFunc(op.method+" "+muxPath(op.uri), func(w http.ResponseWriter, r *http.Request) {
			s.serveOperation(w, r, op, handle)
		})
	}
	s.adminRoutes(mux)
	mux.HandleFunc("/", s.serveUnknown)
	return mux, nil
}

// muxPath turns a Smithy URI pattern into an http.ServeMux pattern: the query
// part is dropped and a greedy label {x+} becomes {x...}.
func muxPath(uri string) string {
	path, _, _ := strings.Cut(uri, "?")
	return strings.ReplaceAll(path, "+}", "...}")
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isSTSRequest(r) {
		s.serveSTS(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// serveUnknown answers a request that matches no served operation.
func (s *Server) serveUnknown(w http.ResponseWriter, r *http.Request) {
	reqID := newUUID()
	w.Header().Set("x-amzn-RequestId", reqID)
	e := &apiError{status: http.StatusNotFound, code: CodeUnknownOperation,
		message: fmt.Sprintf("no operation served at %s %s", r.Method, r.URL.Path)}
	e.write(w)
	s.calls.add(CallRecord{Time: s.now(), RequestID: reqID, Operation: "Unknown", Method: r.Method,
		Path: r.URL.Path, Outcome: e.code, Status: e.status, Message: e.message})
}

// serveOperation runs the pipeline: authenticate, authorise, inject faults,
// apply the quota, validate the input, then serve.
func (s *Server) serveOperation(w http.ResponseWriter, r *http.Request, op *modelOperation, handle operationHandler) {
	s.calls.begin()
	defer s.calls.end()
	c := &call{op: op, r: r, requestID: newUUID()}
	w.Header().Set("x-amzn-RequestId", c.requestID)
	rec := CallRecord{Time: s.now(), RequestID: c.requestID, Operation: op.name, Method: r.Method,
		Path: r.URL.Path, DomainID: r.PathValue("domainId")}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	rec.Body = recordedBody(body)
	if err != nil {
		aerr := serializationError("failed to read request body: %v", err)
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			aerr = &apiError{status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLargeException",
				message: fmt.Sprintf("request body is larger than %d bytes", maxBodyBytes)}
		}
		s.finish(w, &rec, aerr, nil)
		return
	}
	principal, keyID, aerr := s.authenticate(r, body)
	rec.AccessKeyID = keyID
	if aerr == nil {
		aerr = s.authorize(principal, op.name, r.PathValue("domainId"))
	}
	if aerr != nil {
		s.finish(w, &rec, aerr, nil)
		return
	}
	c.principal = principal
	if done := s.injectFaults(w, r, &rec); done {
		return
	}
	if !s.quotas.allow(s.quotaKey(principal), op.name, s.now()) {
		s.finish(w, &rec, throttled("Rate exceeded"), nil)
		return
	}
	c.input, aerr = decodeInput(op, r.PathValue, r.URL.Query(), body)
	if aerr != nil {
		s.finish(w, &rec, aerr, nil)
		return
	}
	out, aerr := handle(s, c)
	s.finish(w, &rec, aerr, out)
}

// finish writes the response, an error or the output, and records the call.
func (s *Server) finish(w http.ResponseWriter, rec *CallRecord, aerr *apiError, out any) {
	if aerr != nil {
		aerr.write(w)
		rec.Status, rec.Outcome, rec.Message = aerr.status, aerr.code, aerr.message
	} else {
		rec.Status, rec.Outcome = http.StatusOK, OutcomeOK
		writeJSON(w, http.StatusOK, out)
	}
	s.record(rec)
}

// record stores a finished call and logs it.
func (s *Server) record(rec *CallRecord) {
	s.calls.add(*rec)
	s.log.Debug("Served request", "operation", rec.Operation, "outcome", rec.Outcome,
		"status", rec.Status, "requestId", rec.RequestID, "domainId", rec.DomainID)
}

// writeJSON writes v as a JSON response; a nil v is an empty body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if v == nil {
		w.WriteHeader(status)
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		internalError("failed to encode response", 0).write(w)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// recordedBody returns the request body for the call log: the JSON itself
// when it is JSON, otherwise the text as a JSON string.
func recordedBody(body []byte) json.RawMessage {
	const limit = 64 << 10
	if len(body) == 0 {
		return nil
	}
	if len(body) <= limit && json.Valid(body) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, body); err == nil {
			return json.RawMessage(buf.Bytes())
		}
	}
	if len(body) > limit {
		body = body[:limit]
	}
	quoted, _ := json.Marshal(string(body))
	return quoted
}
