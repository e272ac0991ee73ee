package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// STS constants: the signing name, the API version of the awsQuery protocol
// and the XML namespace of its answers.
const (
	stsService   = "sts"
	stsVersion   = "2011-06-15"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// STS error codes the emulator answers with.
const (
	CodeSTSAccessDenied          = "AccessDenied"
	CodeSTSExpiredToken          = "ExpiredTokenException"
	CodeSTSInvalidClientTokenID  = "InvalidClientTokenId"
	CodeSTSSignatureDoesNotMatch = "SignatureDoesNotMatch"
	CodeSTSMissingAuthentication = "MissingAuthenticationToken"
	CodeSTSValidation            = "ValidationError"
	CodeSTSInvalidAction         = "InvalidAction"
)

// Bounds of AssumeRole's DurationSeconds, and its default.
const (
	minSessionSeconds     = 900
	maxSessionSeconds     = 43200
	defaultSessionSeconds = 3600
)

// sessionNamePattern is the form of a RoleSessionName.
var sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// isSTSRequest reports whether the request is signed for the sts service:
// the credential scope of its Authorization header names it.
func isSTSRequest(r *http.Request) bool {
	auth, aerr := parseAuthorization(r.Header.Get("Authorization"))
	return aerr == nil && auth.service == stsService
}

// stsError is an error answered the awsQuery way: an HTTP status and an XML
// ErrorResponse.
type stsError struct {
	status  int
	code    string
	message string
}

// stsErrorResponse is the XML body of an STS error.
type stsErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// responseMetadata ends every STS answer.
type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// assumeRoleResponse is the XML answer of AssumeRole.
type assumeRoleResponse struct {
	XMLName xml.Name `xml:"AssumeRoleResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		AssumedRoleUser struct {
			Arn           string `xml:"Arn"`
			AssumedRoleID string `xml:"AssumedRoleId"`
		} `xml:"AssumedRoleUser"`
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string `xml:"SecretAccessKey"`
			SessionToken    string `xml:"SessionToken"`
			Expiration      string `xml:"Expiration"`
		} `xml:"Credentials"`
	} `xml:"AssumeRoleResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

// callerIdentityResponse is the XML answer of GetCallerIdentity.
type callerIdentityResponse struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

// serveSTS serves one STS request: authenticate with SigV4 for service sts,
// then AssumeRole or GetCallerIdentity. Every call goes to the call log
// under its action name.
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request) {
	s.calls.begin()
	defer s.calls.end()
	reqID := newUUID()
	w.Header().Set("x-amzn-RequestId", reqID)
	rec := CallRecord{Time: s.now(), RequestID: reqID, Operation: "sts:Unknown", Method: r.Method, Path: r.URL.Path}
	out, serr := s.handleSTS(r, &rec, reqID)
	if serr != nil {
		serr.write(w, reqID)
		rec.Status, rec.Outcome, rec.Message = serr.status, serr.code, serr.message
	} else {
		writeXML(w, out)
		rec.Status, rec.Outcome = http.StatusOK, OutcomeOK
	}
	s.record(&rec)
}

// handleSTS decodes, authenticates and runs one STS request.
func (s *Server) handleSTS(r *http.Request, rec *CallRecord, reqID string) (any, *stsError) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		return nil, stsValidation("failed to read request body: %v", err)
	}
	form, err := url.ParseQuery(string(body))
	if r.Method != http.MethodPost || err != nil {
		return nil, &stsError{status: http.StatusBadRequest, code: CodeSTSInvalidAction, message: "STS requests must be form-encoded POSTs"}
	}
	action := form.Get("Action")
	rec.Operation = "sts:" + action
	caller, serr := s.authenticateSTS(r, body)
	if caller.principal.AccessKeyID != "" {
		rec.AccessKeyID = caller.principal.AccessKeyID
	}
	if serr != nil {
		return nil, serr
	}
	if v := form.Get("Version"); v != stsVersion {
		return nil, &stsError{status: http.StatusBadRequest, code: "InvalidParameterValue",
			message: fmt.Sprintf("Version %q is not supported; use %s", v, stsVersion)}
	}
	switch action {
	case "GetCallerIdentity":
		out := callerIdentityResponse{Xmlns: stsNamespace, Metadata: responseMetadata{reqID}}
		out.Result.Arn, out.Result.UserID, out.Result.Account = caller.arn, caller.userID, caller.account
		return out, nil
	case "AssumeRole":
		return s.assumeRole(caller, form, reqID)
	default:
		return nil, &stsError{status: http.StatusBadRequest, code: CodeSTSInvalidAction,
			message: fmt.Sprintf("Could not find operation %s for version %s", action, stsVersion)}
	}
}

// authenticateSTS verifies the request's SigV4 signature for service sts.
func (s *Server) authenticateSTS(r *http.Request, body []byte) (identity, *stsError) {
	auth, aerr := parseAuthorization(r.Header.Get("Authorization"))
	if aerr != nil {
		return identity{}, &stsError{status: http.StatusForbidden, code: CodeSTSMissingAuthentication, message: aerr.message}
	}
	caller, aerr := s.lookupIdentity(r, auth.accessKeyID)
	if aerr != nil {
		if aerr.code == CodeExpiredToken {
			return identity{}, &stsError{status: http.StatusBadRequest, code: CodeSTSExpiredToken, message: aerr.message}
		}
		return identity{}, &stsError{status: http.StatusForbidden, code: CodeSTSInvalidClientTokenID, message: msgUnrecognized}
	}
	// The shared scope check knows the cases service only; the service was
	// checked by the dispatch.
	scoped := *auth
	scoped.service = sigV4Service
	if aerr := s.checkScope(r, &scoped); aerr != nil {
		return caller, &stsError{status: http.StatusForbidden, code: CodeSTSSignatureDoesNotMatch, message: aerr.message}
	}
	canonical, aerr := canonicalRequest(r, auth.signedHeaders, body)
	if aerr != nil {
		return caller, &stsError{status: http.StatusForbidden, code: CodeSTSSignatureDoesNotMatch, message: aerr.message}
	}
	hash := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{sigV4Algorithm, requestDate(r), auth.scope(), hex.EncodeToString(hash[:])}, "\n")
	want := hmacSHA256(signingKey(caller.principal.SecretAccessKey, auth.scopeDate, auth.region, stsService), []byte(toSign))
	got, err := hex.DecodeString(auth.signature)
	if err != nil || !hmac.Equal(want, got) {
		return caller, &stsError{status: http.StatusForbidden, code: CodeSTSSignatureDoesNotMatch, message: msgSignatureInvalid}
	}
	return caller, nil
}

// assumeRole issues temporary credentials for a role whose trust policy
// admits the caller and the external id.
func (s *Server) assumeRole(caller identity, form url.Values, reqID string) (any, *stsError) {
	roleARN, name := form.Get("RoleArn"), form.Get("RoleSessionName")
	switch {
	case roleARN == "":
		return nil, stsValidation("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	case !sessionNamePattern.MatchString(name):
		return nil, stsValidation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: "+
			"Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64", name)
	}
	seconds := defaultSessionSeconds
	if v := form.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < minSessionSeconds || n > maxSessionSeconds {
			return nil, stsValidation("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: "+
				"Member must have value between %d and %d", v, minSessionSeconds, maxSessionSeconds)
		}
		seconds = n
	}
	ro, ok := s.iam.roleByARN(roleARN)
	if !ok || !ro.trusts(caller, form.Get("ExternalId")) {
		return nil, &stsError{status: http.StatusForbidden, code: CodeSTSAccessDenied,
			message: fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.arn, roleARN)}
	}
	session := s.iam.issue(ro, name, time.Duration(seconds)*time.Second, s.now())
	out := assumeRoleResponse{Xmlns: stsNamespace, Metadata: responseMetadata{reqID}}
	out.Result.AssumedRoleUser.Arn, out.Result.AssumedRoleUser.AssumedRoleID = session.arn, session.userID
	c := &out.Result.Credentials
	c.AccessKeyID, c.SecretAccessKey = session.principal.AccessKeyID, session.principal.SecretAccessKey
	c.SessionToken, c.Expiration = session.token, session.expires.UTC().Format(time.RFC3339)
	return out, nil
}

// stsValidation returns a 400 ValidationError.
func stsValidation(format string, args ...any) *stsError {
	return &stsError{status: http.StatusBadRequest, code: CodeSTSValidation, message: fmt.Sprintf(format, args...)}
}

// write sends the error as an awsQuery XML ErrorResponse.
func (e *stsError) write(w http.ResponseWriter, reqID string) {
	body := stsErrorResponse{Xmlns: stsNamespace, RequestID: reqID}
	body.Error.Type, body.Error.Code, body.Error.Message = "Sender", e.code, e.message
	if e.status >= http.StatusInternalServerError {
		body.Error.Type = "Receiver"
	}
	data, err := xml.Marshal(body)
	if err != nil {
		http.Error(w, "failed to encode error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status)
	_, _ = w.Write(data)
}

// writeXML writes a 200 XML answer.
func writeXML(w http.ResponseWriter, v any) {
	data, err := xml.Marshal(v)
	if err != nil {
		(&stsError{status: http.StatusInternalServerError, code: "InternalFailure", message: "failed to encode response"}).write(w, "")
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append([]byte(xml.Header), data...))
}
