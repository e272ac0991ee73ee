package cases

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"

	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// Generous bounds for a loaded machine.
const (
	eventually = 30 * time.Second
	poll       = 10 * time.Millisecond
)

// lookup is the result of a Fields call run on its own goroutine.
type lookup struct {
	byID map[string]FieldInfo
	err  error
}

// fieldsAsync looks up ids of a domain on its own goroutine.
func fieldsAsync(ctx context.Context, c *Catalog, domainID string, ids ...string) <-chan lookup {
	out := make(chan lookup, 1)
	go func() {
		byID, _, err := c.Fields(ctx, domainID, ids, nil)
		out <- lookup{byID: byID, err: err}
	}()
	return out
}

// inFlight returns a function for Eventually: the emulator's requests in
// flight.
func (e *env) inFlight() func() int {
	return func() int { return e.emu.Calls().InFlight }
}

func TestCatalogHungDomainHoldsNoWorkerAndNoOtherDomain(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	e.hang("domain-a")
	const callTimeout = 5 * time.Second
	cat := NewCatalog(e.client(Options{}, ""), nil, time.Minute, time.Second, WithCallTimeout(callTimeout))
	// A reconcile's context has no deadline of its own.
	ctx := context.Background()

	first := fieldsAsync(ctx, cat, "domain-a", "priority")
	g.Eventually(e.inFlight(), eventually, poll).Should(Equal(1), "the first lookup's read hangs")
	second := fieldsAsync(ctx, cat, "domain-a", "priority")

	impatient, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	var res lookup
	g.Eventually(fieldsAsync(impatient, cat, "domain-a", "priority"), eventually).Should(Receive(&res))
	g.Expect(res.err).To(MatchError(context.DeadlineExceeded), "a waiter gives up with its own context")
	g.Expect(e.emu.Calls().InFlight).To(Equal(1), "while the read it waited for still hangs")

	byID, _, err := cat.Fields(ctx, "domain-b", []string{"priority"}, nil)
	g.Expect(err).NotTo(HaveOccurred(), "another domain is read meanwhile")
	g.Expect(byID).To(HaveKey("priority"))

	for _, ch := range []<-chan lookup{first, second} {
		g.Eventually(ch, eventually).Should(Receive(&res), "the hung read ends at the call timeout")
		g.Expect(errors.Is(res.err, context.DeadlineExceeded)).To(BeTrue(), "error: %v", res.err)
	}
	g.Eventually(func() []emulator.CallRecord { return callsOf(e, "BatchGetField", "domain-a") }, eventually, poll).Should(HaveLen(1),
		"the waiting lookup shared the read instead of repeating it")
}

// callsOf returns the recorded calls of an operation on a domain.
func callsOf(e *env, operation, domainID string) []emulator.CallRecord {
	var out []emulator.CallRecord
	for _, c := range e.calls(operation) {
		if c.DomainID == domainID {
			out = append(out, c)
		}
	}
	return out
}

func TestCatalogSharesOneRead(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	e.emu.SetFaults([]emulator.Fault{{Operation: "BatchGetField", Kind: emulator.FaultLatency, Rate: 1, MinLatency: 300 * time.Millisecond}})
	cat := NewCatalog(e.client(Options{}, ""), nil, time.Minute, time.Second)
	ctx := context.Background()

	lookups := []<-chan lookup{fieldsAsync(ctx, cat, "domain-a", "priority", "summary")}
	g.Eventually(e.inFlight(), eventually, poll).Should(Equal(1))
	for range 4 {
		lookups = append(lookups, fieldsAsync(ctx, cat, "domain-a", "summary", "priority"))
	}
	for _, ch := range lookups {
		var res lookup
		g.Eventually(ch, eventually).Should(Receive(&res))
		g.Expect(res.err).NotTo(HaveOccurred())
		g.Expect(res.byID).To(HaveKeyWithValue("priority", FieldInfo{ID: "priority", Name: "Priority", Type: "SingleSelect"}))
		g.Expect(res.byID).To(HaveKey("summary"))
	}
	g.Expect(e.calls("BatchGetField")).To(HaveLen(1))
}

func TestCatalogWaiterDoesNotTakeTheErrorOfAnotherRead(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	e.emu.SetFaults([]emulator.Fault{{Operation: "ListFieldOptions", Kind: emulator.FaultLatency, Rate: 1, MinLatency: 300 * time.Millisecond}})
	cat := NewCatalog(e.client(Options{}, ""), nil, time.Minute, time.Second)
	ctx := context.Background()

	options := make(chan error, 1)
	go func() {
		_, err := cat.ActiveOptions(ctx, "domain-a", "no-such-field")
		options <- err
	}()
	g.Eventually(e.inFlight(), eventually, poll).Should(Equal(1))
	byID, _, err := cat.Fields(ctx, "domain-a", []string{"priority"}, nil)
	g.Expect(err).NotTo(HaveOccurred(), "the failed read of another field's options is not this lookup's answer")
	g.Expect(byID).To(HaveKey("priority"))

	var optErr error
	g.Eventually(options, eventually).Should(Receive(&optErr))
	var rnf *types.ResourceNotFoundException
	g.Expect(errors.As(optErr, &rnf)).To(BeTrue(), "error: %v", optErr)
}

func TestCatalogInvalidation(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	client := e.client(Options{}, "")
	cat := NewCatalog(client, nil, time.Minute, time.Second)
	ctx := context.Background()
	names := func(names ...string) map[string]FieldInfo {
		_, byName, err := cat.Fields(ctx, "domain-a", nil, names)
		g.Expect(err).NotTo(HaveOccurred())
		return byName
	}
	options := func() []string {
		values, err := cat.ActiveOptions(ctx, "domain-a", "priority")
		g.Expect(err).NotTo(HaveOccurred())
		return values
	}

	g.Expect(names("Priority", "Summary")).To(HaveLen(2))
	g.Expect(options()).To(ConsistOf("high", "low"))
	g.Expect(e.calls("ListFields")).To(HaveLen(1))

	g.Expect(e.emu.RenameField("domain-a", "priority", "Urgency")).To(Succeed())
	g.Expect(names("Urgency")).To(BeEmpty(), "the cached listing does not know the new name yet")
	cat.InvalidateField("domain-a", "priority")
	g.Expect(names("Urgency", "Summary")).To(HaveKeyWithValue("Urgency", FieldInfo{ID: "priority", Name: "Urgency", Type: "SingleSelect"}))
	g.Expect(names("Priority")).To(BeEmpty(), "the old name is gone")
	g.Expect(e.calls("ListFields")).To(HaveLen(1), "the rest of the domain stayed cached")
	g.Expect(e.calls("BatchGetField")).To(HaveLen(1), "the forgotten field alone was read again")

	_, err := client.BatchPutFieldOptions(ctx, &connectcases.BatchPutFieldOptionsInput{DomainId: aws.String("domain-a"), FieldId: aws.String("priority"),
		Options: []types.FieldOption{{Name: aws.String("Medium"), Value: aws.String("medium"), Active: aws.Bool(true)}}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(options()).To(ConsistOf("high", "low", "medium"), "InvalidateField forgot the field's options too")
	calls := len(e.calls("ListFieldOptions"))

	_, err = client.BatchPutFieldOptions(ctx, &connectcases.BatchPutFieldOptionsInput{DomainId: aws.String("domain-a"), FieldId: aws.String("priority"),
		Options: []types.FieldOption{{Name: aws.String("Medium"), Value: aws.String("medium"), Active: aws.Bool(false)}}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(options()).To(ConsistOf("high", "low", "medium"), "cached")
	cat.InvalidateFieldOptions("domain-a", "priority")
	g.Expect(options()).To(ConsistOf("high", "low"))
	g.Expect(e.calls("ListFieldOptions")).To(HaveLen(calls + 1))
	g.Expect(names("Urgency")).To(HaveLen(1))
	g.Expect(e.calls("BatchGetField")).To(HaveLen(1), "forgetting options leaves the field cached")

	cat.InvalidateField("domain-unknown", "priority")
	cat.InvalidateFieldOptions("domain-unknown", "priority")
	cat.Invalidate("domain-a")
	g.Expect(names("Urgency")).To(HaveLen(1))
	g.Expect(e.calls("ListFields")).To(HaveLen(2), "Invalidate forgets the whole domain")
}

func TestCatalogAnswersEvenWhenTheTTLIsShorterThanARead(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	cat := NewCatalog(e.client(Options{}, ""), nil, time.Nanosecond, time.Second)
	byID, byName, err := cat.Fields(context.Background(), "domain-a", []string{"summary"}, []string{"Priority"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(byID).To(HaveKey("summary"))
	g.Expect(byName).To(HaveKey("Priority"))
	values, err := cat.ActiveOptions(context.Background(), "domain-a", "priority")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(values).To(ConsistOf("high", "low"))
}
