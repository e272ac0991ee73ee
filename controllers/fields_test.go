package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// byName returns a spec item that names its field.
func byName(name string, v casesv1alpha1.FieldValue) casesv1alpha1.CaseField {
	return casesv1alpha1.CaseField{Name: name, Value: v}
}

func fromSecret(id, secret, key string) casesv1alpha1.CaseField {
	return casesv1alpha1.CaseField{ID: id, Value: casesv1alpha1.FieldValue{ValueFrom: &casesv1alpha1.ValueSource{
		SecretKeyRef: &casesv1alpha1.KeyReference{Name: secret, Key: key}}}}
}

func fromConfigMap(id, cm, key string) casesv1alpha1.CaseField {
	return casesv1alpha1.CaseField{ID: id, Value: casesv1alpha1.FieldValue{ValueFrom: &casesv1alpha1.ValueSource{
		ConfigMapKeyRef: &casesv1alpha1.KeyReference{Name: cm, Key: key}}}}
}

func TestFieldsByNameAndRename(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(h.withCatalog)
	ctx := context.Background()

	obj := h.newObject("by-name", "case-1",
		byName("Priority", casesv1alpha1.FieldValue{StringValue: new("high")}),
		byName("Escalated", casesv1alpha1.FieldValue{BooleanValue: new(true)}),
		doubleField("score", 2.5))
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	got := h.get(obj)
	g.Expect(got.Status.Fields).To(Equal([]casesv1alpha1.ResolvedField{
		{ID: "priority", Name: "Priority", Type: "SingleSelect"},
		{ID: "escalated", Name: "Escalated", Type: "Boolean"},
		{ID: "score", Name: "Score", Type: "Number"},
	}))
	values, _ := h.emu.CaseFields("domain-1", "case-1")
	g.Expect(*values["priority"].StringValue).To(Equal("high"))
	g.Expect(*values["escalated"].BooleanValue).To(BeTrue())

	// The field is renamed in the domain: the new name resolves at once,
	// although the catalog is cached, and the old one no longer does.
	g.Expect(h.emu.RenameField("domain-1", "priority", "Urgency")).To(Succeed())
	renamed := h.newObject("new-name", "case-2", byName("Urgency", casesv1alpha1.FieldValue{StringValue: new("low")}))
	g.Expect(k8sClient.Create(ctx, renamed)).To(Succeed())
	g.Eventually(h.readyReasonOf(renamed), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	values, _ = h.emu.CaseFields("domain-1", "case-2")
	g.Expect(*values["priority"].StringValue).To(Equal("low"))

	stale := h.newObject("old-name", "case-3", byName("Priority", casesv1alpha1.FieldValue{StringValue: new("low")}))
	g.Expect(k8sClient.Create(ctx, stale)).To(Succeed())
	g.Eventually(h.readyReasonOf(stale), timeout, interval).Should(Equal(casesv1alpha1.ValidationErrorReason))
	g.Expect(condition(h.get(stale), casesv1alpha1.ReadyCondition).Message).To(Equal(`No field is named "Priority" in domain domain-1`))
	g.Expect(h.updateCalls("case-3")).To(BeZero())
}

func TestTypedPreChecksSendNothing(t *testing.T) {
	tests := map[string]struct {
		field   casesv1alpha1.CaseField
		message string
		reason  string
	}{
		"string for a Boolean field": {
			field:   stringField("escalated", "yes"),
			message: "Field Escalated (escalated) is a Boolean field: set booleanValue, not stringValue",
		},
		"boolean for a Number field": {
			field:   boolField("score", true),
			message: "Field Score (score) is a Number field: set doubleValue, not booleanValue",
		},
		"number for a Text field": {
			field:   doubleField("summary", 1),
			message: "Field Summary (summary) is a Text field: set stringValue, not doubleValue",
		},
		"string for a User field": {
			field:   stringField("owner", "agent-7"),
			message: "Field Owner (owner) is a User field: set userArnValue, not stringValue",
		},
		"user ARN for a SingleSelect field": {
			field:   casesv1alpha1.CaseField{ID: "priority", Value: casesv1alpha1.FieldValue{UserArnValue: new("arn:u")}},
			message: "Field Priority (priority) is a SingleSelect field: set stringValue, not userArnValue",
		},
		"unknown option": {
			field:   stringField("priority", "urgent"),
			message: `Field Priority (priority): "urgent" is not an active option; allowed: high, low`,
		},
		"unknown name": {
			field:   byName("Colour", casesv1alpha1.FieldValue{StringValue: new("red")}),
			message: `No field is named "Colour" in domain domain-1`,
		},
		"unknown id": {
			field:   stringField("colour", "red"),
			message: "Field colour does not exist in domain domain-1",
			reason:  casesv1alpha1.ResourceNotFoundReason,
		},
	}
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(h.withCatalog)
	ctx := context.Background()
	i := 0
	for name, tc := range tests {
		i++
		// One case per row, so that rows never conflict with each other.
		obj := h.newObject(fmt.Sprintf("mismatch-%d", i), fmt.Sprintf("case-%d", i), tc.field)
		g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		reason := tc.reason
		if reason == "" {
			reason = casesv1alpha1.ValidationErrorReason
		}
		g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(reason), name)
		g.Expect(condition(h.get(obj), casesv1alpha1.ReadyCondition).Message).To(Equal(tc.message), name)
	}
	g.Expect(h.emu.CallCount("UpdateCase", "")).To(BeZero(), "no UpdateCase for a rejected spec")
}

func TestCatalogReadsAreSharedByADomain(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(h.withCatalog)
	ctx := context.Background()

	const n = 100
	for i := range n {
		obj := h.newObject(fmt.Sprintf("shared-%03d", i), fmt.Sprintf("case-%d", i%3+1),
			byName("Priority", casesv1alpha1.FieldValue{StringValue: new("high")}),
			doubleField("score", 5), boolField("escalated", true))
		g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	}
	g.Eventually(func() int { return h.emu.CallCount("UpdateCase", "OK") }, 2*timeout, interval).Should(Equal(n))
	reads := h.emu.CallCount("ListFields", "") + h.emu.CallCount("BatchGetField", "")
	t.Logf("%d objects: %d ListFields, %d BatchGetField, %d ListFieldOptions calls", n,
		h.emu.CallCount("ListFields", ""), h.emu.CallCount("BatchGetField", ""), h.emu.CallCount("ListFieldOptions", ""))
	g.Expect(reads).To(BeNumerically("<=", 3))
	g.Expect(h.emu.CallCount("ListFieldOptions", "")).To(BeNumerically("<=", 2))
}

func TestValueFrom(t *testing.T) {
	g := NewWithT(t)
	logs := &syncBuffer{}
	h := newHarness(t, harnessOptions{logs: logs})
	h.startManager(h.withValueFrom)
	ctx := context.Background()

	const secretScore, secretSummary = "7.25", "customer-ref-5f3b0c2e-secret"
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "customer", Namespace: h.namespace},
		StringData: map[string]string{"score": secretScore, "summary": secretSummary}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "routing", Namespace: h.namespace},
		Data: map[string]string{"escalated": "true", "owner": "arn:aws:connect:us-east-1:1:instance/i/agent/a", "priority": "low"}}
	g.Expect(k8sClient.Create(ctx, secret)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, cm)).To(Succeed())

	obj := h.newObject("value-from", "case-1",
		fromSecret("score", "customer", "score"), fromSecret("summary", "customer", "summary"),
		fromConfigMap("escalated", "routing", "escalated"), fromConfigMap("owner", "routing", "owner"),
		fromConfigMap("priority", "routing", "priority"))
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	values, _ := h.emu.CaseFields("domain-1", "case-1")
	g.Expect(*values["score"].DoubleValue).To(Equal(7.25))
	g.Expect(*values["summary"].StringValue).To(Equal(secretSummary))
	g.Expect(*values["escalated"].BooleanValue).To(BeTrue())
	g.Expect(*values["owner"].UserArnValue).To(Equal("arn:aws:connect:us-east-1:1:instance/i/agent/a"))
	g.Expect(*values["priority"].StringValue).To(Equal("low"))
	g.Expect(h.get(obj).Status.References).To(HaveLen(2))

	// A change of the Secret applies the object again.
	cur := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(secret), cur)).To(Succeed())
	cur.StringData = map[string]string{"score": "8"}
	g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
	g.Eventually(func() float64 {
		v, _ := h.emu.CaseFields("domain-1", "case-1")
		return *v["score"].DoubleValue
	}, timeout, interval).Should(Equal(8.0))
	g.Expect(h.updateCalls("case-1")).To(Equal(2))

	// A value that does not parse is a ValidationError that does not quote it.
	bad := h.newObject("bad-number", "case-2", fromSecret("score", "customer", "summary"))
	g.Expect(k8sClient.Create(ctx, bad)).To(Succeed())
	g.Eventually(h.readyReasonOf(bad), timeout, interval).Should(Equal(casesv1alpha1.ValidationErrorReason))
	g.Expect(condition(h.get(bad), casesv1alpha1.ReadyCondition).Message).To(Equal(
		"The value of key summary of Secret customer for field Score (score) is not a finite number, as a Number field needs"))

	// A missing Secret is reported, then used once it is created.
	missing := h.newObject("missing-secret", "case-3", fromSecret("summary", "later", "text"))
	g.Expect(k8sClient.Create(ctx, missing)).To(Succeed())
	g.Eventually(h.readyReasonOf(missing), timeout, interval).Should(Equal(casesv1alpha1.ReferenceNotFoundReason))
	g.Expect(condition(h.get(missing), casesv1alpha1.ReadyCondition).Message).To(Equal("Secret later of field Summary (summary) does not exist"))
	g.Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "later", Namespace: h.namespace},
		StringData: map[string]string{"text": "created later"}})).To(Succeed())
	g.Eventually(h.readyReasonOf(missing), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))

	// No Secret value appears in any status, Event or log line.
	var everything strings.Builder
	list := &casesv1alpha1.CaseFieldUpdateList{}
	g.Expect(k8sClient.List(ctx, list, client.InNamespace(h.namespace))).To(Succeed())
	for _, o := range list.Items {
		fmt.Fprintf(&everything, "%+v\n", o.Status)
		for _, e := range h.events(g, &o) {
			fmt.Fprintln(&everything, e.Note)
		}
	}
	g.Expect(everything.String()).To(ContainSubstring("Applied"), "the statuses and Events were read")
	g.Expect(logs.String()).To(ContainSubstring("UpdateCase applied"), "the logs were captured")
	for _, secretValue := range []string{secretScore, secretSummary, "created later"} {
		g.Expect(everything.String()).NotTo(ContainSubstring(secretValue))
		g.Expect(logs.String()).NotTo(ContainSubstring(secretValue))
	}
}
