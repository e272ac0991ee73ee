package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// adminPrefix is where the admin API lives, outside the AWS surface.
const adminPrefix = "/_emulator/"

// adminRoutes registers the admin API. It is unauthenticated: it is for the
// tests and scripts that run the emulator, never exposed beyond them.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	routes := map[string]http.HandlerFunc{
		"GET /_emulator/healthz":                   s.adminHealth,
		"GET /_emulator/state":                     s.adminState,
		"GET /_emulator/calls":                     s.adminCalls,
		"GET /_emulator/faults":                    s.adminGetFaults,
		"PUT /_emulator/faults":                    s.adminPutFaults,
		"GET /_emulator/quotas":                    s.adminGetQuotas,
		"PUT /_emulator/quotas":                    s.adminPutQuotas,
		"POST /_emulator/reset":                    s.adminReset,
		"GET /_emulator/cases/{domainId}/{caseId}": s.adminGetCase,
		"PUT /_emulator/cases/{domainId}/{caseId}": s.adminPutCase,
		adminPrefix:                                s.adminNotFound,
	}
	for pattern, h := range routes {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("x-amzn-RequestId", newUUID())
			h(w, r)
		})
	}
}

// adminError writes an admin API error as {"message": ...}.
func adminError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"message": err.Error()})
}

// decodeAdminBody decodes a JSON request body into dst, refusing unknown
// members so that a misspelt key is reported, not ignored.
func decodeAdminBody(r *http.Request, dst any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("failed to decode request body: %w", err)
	}
	return nil
}

// adminHealth answers readiness probes.
func (s *Server) adminHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// adminState serves GET /_emulator/state.
func (s *Server) adminState(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.State())
}

// adminCalls serves GET /_emulator/calls.
func (s *Server) adminCalls(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Calls())
}

// adminGetFaults serves GET /_emulator/faults.
func (s *Server) adminGetFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Faults())
}

// adminPutFaults serves PUT /_emulator/faults: a JSON list that replaces the
// faults in force. An invalid fault rejects the whole list.
func (s *Server) adminPutFaults(w http.ResponseWriter, r *http.Request) {
	var faults []Fault
	if err := decodeAdminBody(r, &faults); err != nil {
		adminError(w, http.StatusBadRequest, err)
		return
	}
	if err := validateFaults(faults); err != nil {
		adminError(w, http.StatusBadRequest, err)
		return
	}
	s.faults.set(faults)
	writeJSON(w, http.StatusOK, s.Faults())
}

// adminGetQuotas serves GET /_emulator/quotas.
func (s *Server) adminGetQuotas(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Quotas())
}

// adminPutQuotas serves PUT /_emulator/quotas: a JSON map from operation to
// {rps, burst} replacing the quotas of the operations given. Every entry is
// checked before any is applied.
func (s *Server) adminPutQuotas(w http.ResponseWriter, r *http.Request) {
	var quotas map[string]Quota
	if err := decodeAdminBody(r, &quotas); err != nil {
		adminError(w, http.StatusBadRequest, err)
		return
	}
	for _, op := range sortedKeys(quotas) {
		if _, ok := operationHandlers[op]; !ok {
			adminError(w, http.StatusBadRequest, fmt.Errorf("%q is not an operation the emulator serves", op))
			return
		}
		if err := quotas[op].validate(); err != nil {
			adminError(w, http.StatusBadRequest, fmt.Errorf("invalid quota for %s: %w", op, err))
			return
		}
	}
	for op, q := range quotas {
		s.SetQuota(op, q)
	}
	writeJSON(w, http.StatusOK, s.Quotas())
}

// adminReset serves POST /_emulator/reset[?faults=true].
func (s *Server) adminReset(w http.ResponseWriter, r *http.Request) {
	resetFaults := false
	if v := r.URL.Query().Get("faults"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			adminError(w, http.StatusBadRequest, fmt.Errorf("faults must be true or false, got %q", v))
			return
		}
		resetFaults = b
	}
	s.Reset()
	if resetFaults {
		s.ResetFaults()
	}
	w.WriteHeader(http.StatusNoContent)
}

// caseValues is the body of the admin case endpoints.
type caseValues struct {
	// Fields are values by field id.
	Fields map[string]FieldValue `json:"fields"`
}

// adminGetCase serves GET /_emulator/cases/{domainId}/{caseId}.
func (s *Server) adminGetCase(w http.ResponseWriter, r *http.Request) {
	fields, ok := s.CaseFields(r.PathValue("domainId"), r.PathValue("caseId"))
	if !ok {
		adminError(w, http.StatusNotFound, errors.New("no such case"))
		return
	}
	writeJSON(w, http.StatusOK, caseValues{Fields: fields})
}

// adminPutCase serves PUT /_emulator/cases/{domainId}/{caseId}: it changes
// the given values out of band, all or none, like SetCaseField.
func (s *Server) adminPutCase(w http.ResponseWriter, r *http.Request) {
	var body caseValues
	if err := decodeAdminBody(r, &body); err != nil {
		adminError(w, http.StatusBadRequest, err)
		return
	}
	ids, values := sortedValues(body.Fields)
	err := s.setCaseFields(r.PathValue("domainId"), r.PathValue("caseId"), ids, values)
	var aerr *apiError
	switch {
	case errors.As(err, &aerr) && aerr.status == http.StatusNotFound:
		adminError(w, http.StatusNotFound, err)
	case err != nil:
		adminError(w, http.StatusBadRequest, err)
	default:
		s.adminGetCase(w, r)
	}
}

// adminNotFound answers unknown admin paths.
func (s *Server) adminNotFound(w http.ResponseWriter, r *http.Request) {
	adminError(w, http.StatusNotFound, fmt.Errorf("no admin endpoint at %s %s", r.Method, r.URL.Path))
}
