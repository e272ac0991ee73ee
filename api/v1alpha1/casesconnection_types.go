package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultConnectionAnnotation marks the CasesConnection that CaseFieldUpdates
// without spec.connectionRef use, when set to "true". With none marked,
// they use the operator's own identity (unless the manager runs with
// --require-connection); with several marked, none is used and the objects
// report ConnectionNotFound.
const DefaultConnectionAnnotation = "cases.connectcases.dev/default-connection"

// CasesConnectionSpec is how the operator reaches Amazon Connect Cases for
// the CaseFieldUpdates that use the connection, and who may use it.
type CasesConnectionSpec struct {
	// region is the AWS region of the Connect Cases domains, such as
	// us-east-1.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[a-z0-9-]+$`
	Region string `json:"region"`

	// assumeRole makes the operator assume an IAM role, with its own
	// credentials from the SDK's default chain (IRSA, EKS Pod Identity,
	// ...), before calling Connect Cases. Without it the operator calls with
	// its own credentials.
	// +optional
	AssumeRole *AssumeRoleSpec `json:"assumeRole,omitempty"`

	// endpoints override the AWS endpoints, for a VPC endpoint or the
	// project's emulator.
	// +optional
	Endpoints *ConnectionEndpoints `json:"endpoints,omitempty"`

	// namespaceSelector selects the namespaces whose CaseFieldUpdates may
	// use the connection. An empty selector selects every namespace; an
	// absent one selects none.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// domains are the Connect Cases domain ids that CaseFieldUpdates may
	// update through the connection; "*" allows every domain.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	// +listType=set
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=500
	Domains []string `json:"domains"`

	// rateLimits are the client-side rate limits of the connection's calls,
	// by operation name (UpdateCase, GetCase, ListFields, ...): the
	// connection's quota is its account's, not shared with other
	// connections. An operation without an entry has the manager's limit.
	// +optional
	// +kubebuilder:validation:MaxProperties=20
	RateLimits map[string]RateLimit `json:"rateLimits,omitempty"`
}

// AssumeRoleSpec is the IAM role a connection assumes.
type AssumeRoleSpec struct {
	// roleArn is the ARN of the role, arn:aws:iam::<account>:role/<name>.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$`
	RoleARN string `json:"roleArn"`

	// externalId is the sts:ExternalId the role's trust policy requires.
	// It is not a secret: it guards against the confused deputy.
	// +optional
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=1224
	// +kubebuilder:validation:Pattern=`^[\w+=,.@:/-]*$`
	ExternalID string `json:"externalId,omitempty"`

	// sessionName is the role session name, which CloudTrail records;
	// connectcases-operator-<connection name> when empty.
	// +optional
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[\w+=,.@-]*$`
	SessionName string `json:"sessionName,omitempty"`

	// durationSeconds is the lifetime of the assumed credentials; 900
	// (15 minutes) when unset. They are refreshed before they expire.
	// +optional
	// +kubebuilder:validation:Minimum=900
	// +kubebuilder:validation:Maximum=43200
	DurationSeconds *int32 `json:"durationSeconds,omitempty"`
}

// ConnectionEndpoints are endpoint overrides of a connection.
type ConnectionEndpoints struct {
	// connectcases is the base URL of the Connect Cases API.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('https://') || self.startsWith('http://'))",message="connectcases must be an http or https URL"
	ConnectCases string `json:"connectcases,omitempty"`

	// sts is the base URL of the STS API used to assume the role.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('https://') || self.startsWith('http://'))",message="sts must be an http or https URL"
	STS string `json:"sts,omitempty"`
}

// RateLimit is a client-side token bucket.
type RateLimit struct {
	// rps is the sustained rate, in requests per second.
	// +required
	// +kubebuilder:validation:XValidation:rule="self > 0.0 && self <= 10000.0",message="rps must be greater than 0 and at most 10000"
	RPS float64 `json:"rps"`

	// burst is how many calls may start at once; 1 when unset.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	Burst int32 `json:"burst,omitempty"`
}

// CasesConnectionStatus is what the operator observed of a connection.
type CasesConnectionStatus struct {
	// observedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions are Ready, Reconciling and Stalled. Ready is True when the
	// connection's credentials resolve (checked with STS
	// GetCallerIdentity); its reason is Connected, or else
	// AssumeRoleFailed, InvalidCredentials or NetworkError.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// identityArn is the ARN the credentials resolved to.
	// +optional
	IdentityARN string `json:"identityArn,omitempty"`

	// credentialsExpireTime is when the current credentials expire; unset
	// for credentials that do not.
	// +optional
	CredentialsExpireTime *metav1.Time `json:"credentialsExpireTime,omitempty"`
}

// CasesConnection is how the operator reaches Amazon Connect Cases for a set
// of namespaces and domains: a region, an IAM role to assume and rate
// limits. It is cluster-scoped, owned by a cluster administrator, who thus
// decides which namespaces may write which domains with which credentials.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=ccon,categories=connectcases
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Region",type=string,JSONPath=`.spec.region`
// +kubebuilder:printcolumn:name="Role",type=string,JSONPath=`.spec.assumeRole.roleArn`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CasesConnection struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is how to connect and who may use the connection.
	// +required
	Spec CasesConnectionSpec `json:"spec"`

	// status is what the operator observed of the connection.
	// +optional
	Status CasesConnectionStatus `json:"status,omitempty"`
}

// CasesConnectionList is a list of CasesConnection objects.
//
// +kubebuilder:object:root=true
type CasesConnectionList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the list's metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the objects of the list.
	Items []CasesConnection `json:"items"`
}

func init() {
	SchemeBuilder.Register(knownTypes(&CasesConnection{}, &CasesConnectionList{}))
}
