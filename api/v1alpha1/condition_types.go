package v1alpha1

// Condition types of a CaseFieldUpdate. They follow the kstatus conventions,
// so that kubectl wait, Flux and Argo CD can read an object's health without
// knowing the kind:
//   - Ready is True once the declared values were applied to the case;
//   - Reconciling is True while the operator is still trying (retrying a
//     transient failure);
//   - Stalled is True when the operator cannot make progress without a change
//     to the spec or to something outside the cluster (IAM, the case itself).
const (
	// ReadyCondition tells whether the spec's values were applied to the case
	// for the current generation.
	ReadyCondition = "Ready"

	// ReconcilingCondition is True while a transient failure is being retried.
	ReconcilingCondition = "Reconciling"

	// StalledCondition is True while progress needs a change the operator
	// cannot make by itself.
	StalledCondition = "Stalled"
)

// Reasons of the Ready condition, one per outcome of an UpdateCase call. The
// Reconciling or Stalled condition, when set, carries the same reason.
const (
	// AppliedReason: UpdateCase succeeded for the current generation. The
	// generation is not sent again.
	AppliedReason = "Applied"

	// ValidationErrorReason: the service answered ValidationException, or a
	// local check rejected the spec before any call. Stalled; no retry until
	// the spec changes.
	ValidationErrorReason = "ValidationError"

	// ResourceNotFoundReason: the domain, the case or a field does not exist
	// (ResourceNotFoundException). Stalled; retried at the stalled retry
	// interval, since the case may be created later by the same sync.
	ResourceNotFoundReason = "ResourceNotFound"

	// AccessDeniedReason: the credentials are not allowed to update the case
	// (AccessDeniedException). Stalled; retried at the stalled retry interval,
	// since IAM is fixed outside the cluster.
	AccessDeniedReason = "AccessDenied"

	// InvalidCredentialsReason: no credentials could be resolved, or the
	// service did not accept them (UnrecognizedClientException,
	// InvalidSignatureException, an expired token). Stalled; retried at the
	// stalled retry interval.
	InvalidCredentialsReason = "InvalidCredentials"

	// ThrottledReason: the service throttled the call (ThrottlingException,
	// another throttling code, or any HTTP 429). Reconciling; retried with
	// exponential backoff and full jitter, never sooner than Retry-After.
	ThrottledReason = "Throttled"

	// InternalServerErrorReason: the service failed (InternalServerException,
	// another server fault, or any HTTP 5xx, such as a load balancer's 502,
	// 503 or 504). Reconciling; retried with the same backoff, never sooner
	// than the answer's Retry-After or retryAfterSeconds.
	InternalServerErrorReason = "InternalServerError"

	// NetworkErrorReason: the call did not get an answer (timeout, connection
	// reset, DNS failure). Reconciling; retried with the same backoff.
	NetworkErrorReason = "NetworkError"

	// UnexpectedErrorReason: the service rejected the call with an HTTP 4xx
	// and an error code that the operator does not know. Stalled; retried at
	// the stalled retry interval, so that an unknown but transient rejection
	// heals by itself.
	UnexpectedErrorReason = "UnexpectedError"

	// PausedReason: the paused annotation is set; no AWS call is made until
	// it is removed. Ready keeps the status it had.
	PausedReason = "Paused"

	// FieldConflictReason: another CaseFieldUpdate sets one of the same
	// fields of the same case to another value. Stalled; neither object is
	// applied until one of them changes, so they cannot overwrite each other
	// in turn.
	FieldConflictReason = "FieldConflict"

	// ReferenceNotFoundReason: a Secret or ConfigMap of valueFrom, or its
	// key, does not exist (or valueFrom is not enabled). Stalled; tried again
	// when the Secret or ConfigMap appears or changes.
	ReferenceNotFoundReason = "ReferenceNotFound"
)

// Reasons of the Ready condition decided before any AWS call, from the
// CasesConnection the object uses. The object is Stalled with the same
// reason, and is checked again when the connection or the labels of its
// namespace change.
const (
	// ConnectionNotFoundReason: spec.connectionRef names no CasesConnection,
	// several connections are marked default, or the manager runs with
	// --require-connection and the object names none while none is marked
	// default.
	ConnectionNotFoundReason = "ConnectionNotFound"

	// NotPermittedReason: the connection does not select the object's
	// namespace (spec.namespaceSelector) or does not list its domainId
	// (spec.domains). No AWS call is made.
	NotPermittedReason = "NotPermitted"

	// ConnectionNotReadyReason: the connection's credentials do not resolve
	// (its Ready condition is not True): the role cannot be assumed, the
	// external id is wrong, or STS cannot be reached.
	ConnectionNotReadyReason = "ConnectionNotReady"
)

// Reasons of a CasesConnection's Ready condition.
const (
	// ConnectedReason: STS GetCallerIdentity succeeded with the connection's
	// credentials.
	ConnectedReason = "Connected"

	// AssumeRoleFailedReason: STS refused to let the operator assume the
	// role (the trust policy does not name the operator's identity, or the
	// external id does not match). Stalled; checked again at the stalled
	// retry interval and on every change of the connection.
	AssumeRoleFailedReason = "AssumeRoleFailed"
)

// DriftDetectedReason is the reason of the Event an Enforce object emits
// when it finds a field of its case changed outside of it.
const DriftDetectedReason = "DriftDetected"
