package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Error codes the emulator answers with. The modelled ones are the error
// shapes of the Connect Cases model; the others are the codes the AWS front
// end uses before a request reaches the service.
const (
	CodeAccessDenied          = "AccessDeniedException"
	CodeConflict              = "ConflictException"
	CodeInternalServer        = "InternalServerException"
	CodeResourceNotFound      = "ResourceNotFoundException"
	CodeServiceQuotaExceeded  = "ServiceQuotaExceededException"
	CodeThrottling            = "ThrottlingException"
	CodeValidation            = "ValidationException"
	CodeSerialization         = "SerializationException"
	CodeUnrecognizedClient    = "UnrecognizedClientException"
	CodeInvalidSignature      = "InvalidSignatureException"
	CodeMissingAuthentication = "MissingAuthenticationTokenException"
	CodeIncompleteSignature   = "IncompleteSignatureException"
	CodeUnknownOperation      = "UnknownOperationException"
	CodeExpiredToken          = "ExpiredTokenException"
)

// Codes of injected answers that neither the model nor the SDK's lists hold:
// a client can classify them only by their HTTP status.
const (
	CodeServiceUnavailable = "ServiceUnavailableException"
	CodeTooManyRequests    = "TooManyRequests"
)

// OutcomeOK is the outcome recorded for a call that succeeded.
const OutcomeOK = "OK"

// OutcomeConnectionReset is the outcome recorded for a call whose connection
// the emulator closed without answering, as an injected fault.
const OutcomeConnectionReset = "ConnectionReset"

// Resource types named by ResourceNotFoundException.
const (
	ResourceTypeDomain   = "Domain"
	ResourceTypeCase     = "Case"
	ResourceTypeField    = "Field"
	ResourceTypeTemplate = "Template"
)

// apiError is an error answered on the wire: an HTTP status, the error code
// sent in X-Amzn-ErrorType and the members of the error shape.
type apiError struct {
	status            int
	code              string
	message           string
	resourceID        string
	resourceType      string
	retryAfterSeconds int
}

// Error implements error.
func (e *apiError) Error() string {
	return fmt.Sprintf("%s: %s", e.code, e.message)
}

// errorBody is the JSON body of an error response.
type errorBody struct {
	Message      string `json:"message"`
	ResourceID   string `json:"resourceId,omitempty"`
	ResourceType string `json:"resourceType,omitempty"`
}

// write sends the error as a restJson1 error response.
func (e *apiError) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", e.code)
	if e.retryAfterSeconds > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfterSeconds))
	}
	body, _ := json.Marshal(errorBody{Message: e.message, ResourceID: e.resourceID, ResourceType: e.resourceType})
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// validationError returns a 400 ValidationException.
func validationError(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: CodeValidation, message: fmt.Sprintf(format, args...)}
}

// serializationError returns a 400 SerializationException, the answer of AWS
// to a body that is not JSON or whose JSON types do not fit the model.
func serializationError(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: CodeSerialization, message: fmt.Sprintf(format, args...)}
}

// notFound returns a 404 ResourceNotFoundException for the resource.
func notFound(resourceType, id string) *apiError {
	return &apiError{
		status:       http.StatusNotFound,
		code:         CodeResourceNotFound,
		message:      fmt.Sprintf("%s %s not found", resourceType, id),
		resourceID:   id,
		resourceType: resourceType,
	}
}

// conflict returns a 409 ConflictException.
func conflict(format string, args ...any) *apiError {
	return &apiError{status: http.StatusConflict, code: CodeConflict, message: fmt.Sprintf(format, args...)}
}

// accessDenied returns a 403 AccessDeniedException.
func accessDenied(format string, args ...any) *apiError {
	return &apiError{status: http.StatusForbidden, code: CodeAccessDenied, message: fmt.Sprintf(format, args...)}
}

// throttled returns a 429 ThrottlingException.
func throttled(message string) *apiError {
	return &apiError{status: http.StatusTooManyRequests, code: CodeThrottling, message: message}
}

// internalError returns a 500 InternalServerException, with a Retry-After
// header when retryAfter is positive.
func internalError(message string, retryAfter int) *apiError {
	return &apiError{status: http.StatusInternalServerError, code: CodeInternalServer, message: message, retryAfterSeconds: retryAfter}
}

// authError returns a 403 error of the AWS authentication layer.
func authError(code, message string) *apiError {
	return &apiError{status: http.StatusForbidden, code: code, message: message}
}
