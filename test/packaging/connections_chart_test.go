package packaging

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// connectionValues declare two connections, one the default, and the
// manager's --require-connection.
const connectionValues = `
aws: {region: us-east-1}
manager: {requireConnection: true}
connections:
- name: chart-team-a
  default: true
  assumeRole: {roleArn: "arn:aws:iam::222222222222:role/connectcases-team-a", externalId: team-a, durationSeconds: 3600}
  namespaceSelector: {matchLabels: {team: a}}
  domains: [domain-a]
  rateLimits: {UpdateCase: {rps: 2, burst: 2}}
- name: chart-team-b
  region: eu-west-2
  endpoints: {connectcases: "https://cases.example.com", sts: "https://sts.eu-west-2.amazonaws.com"}
  namespaceSelector: {}
  domains: ["*"]
`

// TestChartRendersConnections renders connections from values as
// CasesConnection objects that the API server accepts, the default one
// annotated, an empty namespaceSelector kept (it selects every namespace),
// and the manager's --require-connection flag.
func TestChartRendersConnections(t *testing.T) {
	g := NewWithT(t)
	values := filepath.Join(t.TempDir(), "values.yaml")
	g.Expect(os.WriteFile(values, []byte(connectionValues), 0o600)).To(Succeed())
	objs := decodeObjects(t, helmTemplate(t, "-f", values))

	byName := map[string]map[string]any{}
	for _, o := range objs {
		if o.GetKind() != "CasesConnection" {
			continue
		}
		byName[o.GetName()] = o.Object
		// The API server accepts what the chart renders.
		g.Expect(k8sClient.Create(context.Background(), o, client.DryRunAll, client.FieldValidation("Strict"))).To(Succeed(), o.GetName())
	}
	g.Expect(byName).To(HaveLen(2))
	a, b := byName["chart-team-a"], byName["chart-team-b"]
	g.Expect(a).To(HaveKeyWithValue("metadata", HaveKeyWithValue("annotations", HaveKeyWithValue("cases.connectcases.dev/default-connection", "true"))))
	g.Expect(a["spec"]).To(HaveKeyWithValue("region", "us-east-1"), "aws.region by default")
	g.Expect(b["spec"]).To(HaveKeyWithValue("region", "eu-west-2"))
	g.Expect(b["spec"]).To(HaveKeyWithValue("namespaceSelector", BeEmpty()))
	g.Expect(b["metadata"]).NotTo(HaveKey("annotations"))

	args := managerContainer(t, findObject(t, objs, "Deployment"))["args"]
	g.Expect(args).To(ContainElement("--require-connection"))
}
