package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CaseFieldUpdateSpec declares field values to set on one Amazon Connect
// Cases case. The operator sends them with a single UpdateCase call per
// generation of the object.
// +kubebuilder:validation:XValidation:rule="!has(self.ttlSecondsAfterApplied) || !has(self.syncPolicy) || self.syncPolicy != 'Enforce'",message="ttlSecondsAfterApplied cannot be combined with syncPolicy Enforce: a deleted object enforces nothing"
type CaseFieldUpdateSpec struct {
	// domainId is the identifier of the Cases domain that holds the case.
	// It cannot be changed once set: create another object instead.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=500
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="domainId is immutable: create another CaseFieldUpdate to update a case in another domain"
	DomainID string `json:"domainId"`

	// caseId is the identifier of the case to update.
	// It cannot be changed once set: create another object instead.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=500
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="caseId is immutable: create another CaseFieldUpdate to update another case"
	CaseID string `json:"caseId"`

	// The uniqueness rules of fields compile with the CEL libraries of
	// Kubernetes 1.31, which a 1.32 API server (the oldest supported) checks
	// new rules with: no distinct(), no two-variable comprehensions. They test
	// "g.id in [f.id]" rather than "g.id == f.id" because CEL charges a string
	// comparison by the strings' length but a one-element list's containment
	// at a flat rate: the 220 x 220 comparisons of the longest ids would
	// exceed the per-rule runtime budget otherwise.

	// fields lists the fields to set and their values: 1 to 220 items (the
	// UpdateCase limit), each field at most once, by id or by name. Fields
	// not listed keep the value they have on the case.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=220
	// +kubebuilder:validation:XValidation:rule="self.all(f, !has(f.id) || self.exists_one(g, has(g.id) && g.id in [f.id]))",message="each field id may appear only once in fields"
	// +kubebuilder:validation:XValidation:rule="self.all(f, !has(f.name) || self.exists_one(g, has(g.name) && g.name in [f.name]))",message="each field name may appear only once in fields"
	Fields []CaseField `json:"fields"`

	// performedBy names the entity recorded in the case's audit history as
	// the author of the update. When unset, the service records the caller.
	// +optional
	PerformedBy *PerformedBy `json:"performedBy,omitempty"`

	// connectionRef names the CasesConnection (cluster-scoped) whose region,
	// credentials and rate limits the operator uses for this object. The
	// connection must select the object's namespace and list its domainId.
	// When unset, the connection annotated
	// cases.connectcases.dev/default-connection: "true" is used, or else
	// the operator's own identity (unless the manager runs with
	// --require-connection).
	// +optional
	ConnectionRef *ConnectionReference `json:"connectionRef,omitempty"`

	// syncPolicy says what the operator does once a generation is applied.
	// ApplyOnce (the default) applies each generation once and then leaves
	// the case alone. Enforce also reads the case every resyncInterval and
	// applies the spec again when a field differs from it (drift), reporting
	// the drift with an Event.
	// +optional
	// +kubebuilder:default=ApplyOnce
	SyncPolicy SyncPolicy `json:"syncPolicy,omitempty"`

	// resyncInterval is how often, jittered, an Enforce object reads its case
	// to detect drift: at least 30s. Default 10m.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('30s')",message="resyncInterval must be at least 30s"
	ResyncInterval *metav1.Duration `json:"resyncInterval,omitempty"`

	// ttlSecondsAfterApplied, when set, deletes the object this many seconds
	// after its current generation was applied (status.lastAppliedTime), as
	// a Job's ttlSecondsAfterFinished does: for one-shot objects that
	// automation creates for one update. 0 deletes it as soon as it is
	// applied. An object that is not applied (failed, in conflict, paused)
	// is kept. Deleting the object leaves the case as it is. Do not set it on
	// objects that a GitOps tool manages: the tool would create them again,
	// and they would be applied again. Not allowed with syncPolicy Enforce.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=31536000
	TTLSecondsAfterApplied *int32 `json:"ttlSecondsAfterApplied,omitempty"`
}

// ConnectionReference names a CasesConnection.
type ConnectionReference struct {
	// name is the CasesConnection's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// SyncPolicy is ApplyOnce or Enforce.
// +kubebuilder:validation:Enum=ApplyOnce;Enforce
type SyncPolicy string

const (
	// SyncPolicyApplyOnce applies each generation once.
	SyncPolicyApplyOnce SyncPolicy = "ApplyOnce"
	// SyncPolicyEnforce applies each generation, then repairs drift found by
	// reading the case every resyncInterval.
	SyncPolicyEnforce SyncPolicy = "Enforce"
)

// Annotations that control the reconciliation of an object.
const (
	// PausedAnnotation, set to "true", stops every AWS call for the object
	// until it is removed or set to another value.
	PausedAnnotation = "cases.connectcases.dev/paused"

	// ReconcileRequestedAtAnnotation asks for the spec to be applied again
	// now, even without a change: set it to a new value (a timestamp, a
	// token); status.lastHandledReconcileAt echoes the value once handled.
	ReconcileRequestedAtAnnotation = "cases.connectcases.dev/reconcile-requested-at"
)

// CaseField is one field of the case, by id or by name, and the value to
// give it.
// +kubebuilder:validation:XValidation:rule="has(self.id) != has(self.name)",message="a field must set exactly one of id or name"
type CaseField struct {
	// id is the identifier of the field in the Cases domain (as returned by
	// ListFields), for example a system field such as "status" or the
	// generated identifier of a custom field. Exactly one of id or name is
	// set.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=500
	ID string `json:"id,omitempty"`

	// name is the name of the field in the Cases domain, such as "Priority":
	// the operator resolves it to the field's id with ListFields. Exactly
	// one of id or name is set.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	Name string `json:"name,omitempty"`

	// value is the value to set. Exactly one of its members must be set, and
	// it must match the field's type in the domain.
	// +required
	Value FieldValue `json:"value"`
}

// FieldValue is the value of a case field: exactly one member is set, and the
// member must fit the field's type (Number: doubleValue; Boolean:
// booleanValue; Text, Url, DateTime and SingleSelect: stringValue; User:
// userArnValue). emptyValue clears the field.
// +kubebuilder:validation:XValidation:rule="[has(self.booleanValue), has(self.doubleValue), has(self.stringValue), has(self.emptyValue), has(self.userArnValue), has(self.valueFrom)].filter(x, x).size() == 1",message="value must set exactly one of booleanValue, doubleValue, stringValue, emptyValue, userArnValue or valueFrom"
type FieldValue struct {
	// booleanValue is the value of a Boolean field.
	// +optional
	BooleanValue *bool `json:"booleanValue,omitempty"`

	// doubleValue is the value of a Number field, as a JSON number.
	//
	// It is a float64 because the service's type is a double and a user
	// writes a plain number ("doubleValue: 4.5"); a resource.Quantity or a
	// string would change the wire format users know from the AWS API. The
	// CRD is generated with allowDangerousTypes for this reason only.
	// +optional
	DoubleValue *float64 `json:"doubleValue,omitempty"`

	// stringValue is the value of a Text, Url, DateTime or SingleSelect
	// field: at most 4100 characters.
	// +optional
	// +kubebuilder:validation:MaxLength=4100
	StringValue *string `json:"stringValue,omitempty"`

	// emptyValue, set to {}, clears the field. The service refuses it for a
	// field that the case's template marks as required.
	// +optional
	EmptyValue *EmptyValue `json:"emptyValue,omitempty"`

	// userArnValue is the value of a User field: the ARN of an Amazon Connect
	// user, at most 500 characters.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=500
	UserArnValue *string `json:"userArnValue,omitempty"`

	// valueFrom takes the value from a key of a Secret or a ConfigMap in the
	// object's namespace, converted to the field's type (a number, true or
	// false, a string or a user ARN). A change of the referenced data
	// applies the object again. The manager reads them only when started
	// with --enable-value-from.
	// +optional
	ValueFrom *ValueSource `json:"valueFrom,omitempty"`
}

// ValueSource names a key of a Secret or a ConfigMap in the object's
// namespace: exactly one of secretKeyRef or configMapKeyRef.
// +kubebuilder:validation:XValidation:rule="has(self.secretKeyRef) != has(self.configMapKeyRef)",message="valueFrom must set exactly one of secretKeyRef or configMapKeyRef"
type ValueSource struct {
	// secretKeyRef selects a key of a Secret.
	// +optional
	SecretKeyRef *KeyReference `json:"secretKeyRef,omitempty"`

	// configMapKeyRef selects a key of a ConfigMap.
	// +optional
	ConfigMapKeyRef *KeyReference `json:"configMapKeyRef,omitempty"`
}

// KeyReference is a key of a Secret or a ConfigMap in the same namespace.
type KeyReference struct {
	// name is the name of the Secret or ConfigMap.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// key is the key within its data.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// EmptyValue clears a field. It has no members: write it as {}.
type EmptyValue struct{}

// PerformedBy names who the service records as the author of the update:
// exactly one of userArn or customEntity.
// +kubebuilder:validation:XValidation:rule="has(self.userArn) != has(self.customEntity)",message="performedBy must set exactly one of userArn or customEntity"
type PerformedBy struct {
	// userArn is the ARN of an Amazon Connect user, 1 to 500 characters.
	// The caller needs connect:DescribeUser on that user.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=500
	UserArn *string `json:"userArn,omitempty"`

	// customEntity is any other name of the author, 1 to 500 characters of
	// letters, digits, spaces and _ - . @ : / (not ending with a space).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=500
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9_\-\.@:/ ]*[a-zA-Z0-9_\-\.@:/]$`
	CustomEntity *string `json:"customEntity,omitempty"`
}

// CaseFieldUpdateStatus is what the operator observed and did.
type CaseFieldUpdateStatus struct {
	// observedGeneration is the generation of the spec that the conditions
	// describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions are Ready, Reconciling and Stalled, following the kstatus
	// conventions. Ready's reason tells the outcome of the last attempt:
	// Applied; ValidationError (the service or a check before the call
	// rejected the spec); ResourceNotFound, AccessDenied, InvalidCredentials,
	// Throttled, InternalServerError, NetworkError or UnexpectedError (the
	// service's answer, or the lack of one); FieldConflict (another object
	// sets one of the same fields to another value); ReferenceNotFound (a
	// Secret or ConfigMap of valueFrom, or its key, is missing);
	// ConnectionNotFound, NotPermitted or ConnectionNotReady (the
	// CasesConnection is missing, does not admit the object, or has no
	// usable credentials); Paused (the paused annotation stops every AWS
	// call).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// lastAppliedTime is when UpdateCase last succeeded for this object.
	// +optional
	LastAppliedTime *metav1.Time `json:"lastAppliedTime,omitempty"`

	// lastRequestId is the AWS request id of the last UpdateCase call, to
	// quote when asking AWS support about it.
	// +optional
	LastRequestID string `json:"lastRequestId,omitempty"`

	// failures counts the failed UpdateCase attempts since the last success.
	// +optional
	Failures int32 `json:"failures,omitempty"`

	// lastCheckedTime is when an Enforce object last read its case to look
	// for drift.
	// +optional
	LastCheckedTime *metav1.Time `json:"lastCheckedTime,omitempty"`

	// lastHandledReconcileAt is the value of the reconcile-requested-at
	// annotation that was last handled.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`

	// fields are the spec's fields as resolved in the domain's field
	// catalog, in spec order: id, name and type.
	// +optional
	// +listType=atomic
	Fields []ResolvedField `json:"fields,omitempty"`

	// references are the Secrets and ConfigMaps whose data the last applied
	// generation used, with their resourceVersion: a change of one applies
	// the object again. Values are never recorded.
	// +optional
	// +listType=atomic
	References []ValueReference `json:"references,omitempty"`
}

// ResolvedField is a field of the spec as found in the domain.
type ResolvedField struct {
	// id is the field's identifier.
	ID string `json:"id"`
	// name is the field's name.
	// +optional
	Name string `json:"name,omitempty"`
	// type is the field's type: Text, Number, Boolean, DateTime,
	// SingleSelect, Url or User.
	// +optional
	Type string `json:"type,omitempty"`
}

// ValueReference is a Secret or ConfigMap read for the last apply.
type ValueReference struct {
	// kind is Secret or ConfigMap.
	Kind string `json:"kind"`
	// name is its name.
	Name string `json:"name"`
	// resourceVersion is the version whose data was applied.
	ResourceVersion string `json:"resourceVersion"`
}

// CaseFieldUpdate sets field values on an Amazon Connect Cases case through
// the UpdateCase API, and reports the outcome in its conditions.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cfu,categories=connectcases
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Case",type=string,JSONPath=`.spec.caseId`
// +kubebuilder:printcolumn:name="Domain",type=string,JSONPath=`.spec.domainId`,priority=1
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CaseFieldUpdate struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the case, the fields and the values to set.
	// +required
	Spec CaseFieldUpdateSpec `json:"spec"`

	// status is what the operator observed and did. A new object reads
	// observedGeneration 0 until the operator first writes its status, so
	// that kstatus (Flux, kubectl wait) sees it in progress rather than
	// current.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status CaseFieldUpdateStatus `json:"status,omitempty"`
}

// CaseFieldUpdateList is a list of CaseFieldUpdate objects.
//
// +kubebuilder:object:root=true
type CaseFieldUpdateList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the list's metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the objects of the list.
	Items []CaseFieldUpdate `json:"items"`
}

func init() {
	SchemeBuilder.Register(knownTypes(&CaseFieldUpdate{}, &CaseFieldUpdateList{}))
}
