package emulator

import (
	"net/http"
	"strconv"
)

// badGatewayPage is the body of an injected 502: an HTML page, as a load
// balancer sends when the service behind it failed, which is no AWS error
// document.
const badGatewayPage = `<html>
<head><title>502 Bad Gateway</title></head>
<body><h1>502 Bad Gateway</h1><p>The server on the way received an invalid response from the service.</p></body>
</html>
`

// writeForeignFault answers a call with an injected fault that is not an
// error of the Connect Cases model: a code the model does not list, or a
// proxy's answer without any code. It records the call.
func (s *Server) writeForeignFault(w http.ResponseWriter, rec *CallRecord, f *Fault) {
	switch f.Kind {
	case FaultServiceUnavailable:
		s.finish(w, rec, &apiError{status: http.StatusServiceUnavailable, code: CodeServiceUnavailable,
			message: "Injected fault: service unavailable", retryAfterSeconds: f.RetryAfterSeconds}, nil)
	case FaultTooManyRequests:
		s.finish(w, rec, &apiError{status: http.StatusTooManyRequests, code: CodeTooManyRequests,
			message: "Injected fault: too many requests", retryAfterSeconds: f.RetryAfterSeconds}, nil)
	case FaultExpiredToken:
		s.finish(w, rec, &apiError{status: http.StatusForbidden, code: CodeExpiredToken,
			message: "The security token included in the request is expired", retryAfterSeconds: f.RetryAfterSeconds}, nil)
	case FaultBadGateway:
		writeProxyAnswer(w, http.StatusBadGateway, "text/html", badGatewayPage, f.RetryAfterSeconds)
		rec.Status, rec.Outcome, rec.Message, rec.RequestID = http.StatusBadGateway, FaultBadGateway, "injected fault: HTML page of a proxy", ""
		s.record(rec)
	case FaultGatewayTimeout:
		writeProxyAnswer(w, http.StatusGatewayTimeout, "", "", f.RetryAfterSeconds)
		rec.Status, rec.Outcome, rec.Message, rec.RequestID = http.StatusGatewayTimeout, FaultGatewayTimeout, "injected fault: empty answer of a proxy", ""
		s.record(rec)
	}
}

// writeProxyAnswer writes an answer that a proxy in front of the service
// would send: no AWS request id, no error type, the given body.
func writeProxyAnswer(w http.ResponseWriter, status int, contentType, body string, retryAfter int) {
	h := w.Header()
	h.Del("x-amzn-RequestId")
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retryAfter))
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
