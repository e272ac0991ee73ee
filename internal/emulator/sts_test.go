package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	. "github.com/onsi/gomega"
)

// Accounts of the STS tests: a base account holding the operator's user,
// and two team accounts whose roles trust it.
const (
	baseAccount = "111111111111"
	teamAccount = "222222222222"
	baseKey     = "AKIDBASEUSER"
	baseSecret  = "base-user-secret"
	teamRoleARN = "arn:aws:iam::222222222222:role/cases-writer"
	shortARN    = "arn:aws:iam::222222222222:role/short-lived"
)

// stsSeedYAML adds the accounts to the test seed.
const stsSeedYAML = testSeedYAML + `
accounts:
- id: "111111111111"
  users:
  - {name: operator, accessKeyId: AKIDBASEUSER, secretAccessKey: base-user-secret}
- id: "222222222222"
  roles:
  - name: cases-writer
    trust:
    - principals: ["arn:aws:iam::111111111111:user/operator"]
      externalId: team-b
    actions: ["cases:UpdateCase", "cases:GetCase"]
    domains: [d1]
  - name: short-lived
    trust:
    - principals: ["111111111111"]
    actions: ["cases:*"]
    domains: ["*"]
    sessionDuration: 2s
`

// summaryField is the field the tests' GetCase calls read.
var summaryField = []types.FieldIdentifier{{Id: aws.String("summary")}}

// stsEnv is an emulator with the STS seed and a real clock that the test
// can move forward.
type stsEnv struct {
	*env
	offset atomic.Int64
}

// newSTSEnv starts the emulator with the accounts of stsSeedYAML.
func newSTSEnv(t *testing.T) *stsEnv {
	t.Helper()
	seed, err := ParseSeed([]byte(stsSeedYAML))
	if err != nil {
		t.Fatalf("failed to parse seed: %v", err)
	}
	se := &stsEnv{}
	se.env = newEnv(t, func(o *Options) {
		o.Seed = seed
		o.Now = se.clock
	})
	return se
}

// clock is the emulator's clock.
func (se *stsEnv) clock() time.Time {
	return time.Now().Add(time.Duration(se.offset.Load()))
}

// advance moves the emulator's clock.
func (se *stsEnv) advance(d time.Duration) {
	se.offset.Add(int64(d))
}

// stsClient returns an STS client signing with the given credentials.
func (se *stsEnv) stsClient(creds aws.CredentialsProvider) *sts.Client {
	return sts.New(sts.Options{
		Region: testRegion, Credentials: creds, BaseEndpoint: aws.String(se.ts.URL),
		Retryer: aws.NopRetryer{}, HTTPClient: se.ts.Client(),
	})
}

// casesClient returns a Connect Cases client signing with creds.
func (se *stsEnv) casesClient(creds aws.CredentialsProvider) *connectcases.Client {
	return connectcases.New(connectcases.Options{
		Region: testRegion, Credentials: creds, BaseEndpoint: aws.String(se.ts.URL),
		Retryer: aws.NopRetryer{}, HTTPClient: se.ts.Client(),
	})
}

func TestSTSGetCallerIdentity(t *testing.T) {
	tests := map[string]struct {
		key, secret string
		wantARN     string
		wantAccount string
		wantCode    string
	}{
		"seeded user":          {key: baseKey, secret: baseSecret, wantARN: "arn:aws:iam::111111111111:user/operator", wantAccount: baseAccount},
		"configured principal": {key: testKey, secret: testSecret, wantARN: "arn:aws:iam::" + DefaultAccountID + ":user/" + testKey, wantAccount: DefaultAccountID},
		"unknown key":          {key: "AKIDNOBODY", secret: "x", wantCode: CodeSTSInvalidClientTokenID},
		"wrong secret":         {key: baseKey, secret: "wrong", wantCode: CodeSTSSignatureDoesNotMatch},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			se := newSTSEnv(t)
			out, err := se.stsClient(credentials.NewStaticCredentialsProvider(tc.key, tc.secret, "")).
				GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if tc.wantCode != "" {
				g.Expect(apiCode(err)).To(Equal(tc.wantCode), "error: %v", err)
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(aws.ToString(out.Arn)).To(Equal(tc.wantARN))
			g.Expect(aws.ToString(out.Account)).To(Equal(tc.wantAccount))
		})
	}
}

func TestSTSAssumeRole(t *testing.T) {
	tests := map[string]struct {
		roleARN    string
		externalID string
		duration   int32
		wantCode   string
		wantLife   time.Duration
	}{
		"trusted with the external id": {roleARN: teamRoleARN, externalID: "team-b", wantLife: time.Hour},
		"duration honoured":            {roleARN: teamRoleARN, externalID: "team-b", duration: 900, wantLife: 15 * time.Minute},
		"wrong external id":            {roleARN: teamRoleARN, externalID: "team-a", wantCode: CodeSTSAccessDenied},
		"missing external id":          {roleARN: teamRoleARN, wantCode: CodeSTSAccessDenied},
		"unknown role":                 {roleARN: "arn:aws:iam::222222222222:role/none", wantCode: CodeSTSAccessDenied},
		"duration too short":           {roleARN: teamRoleARN, externalID: "team-b", duration: 60, wantCode: CodeSTSValidation},
		"session duration caps":        {roleARN: shortARN, wantLife: 2 * time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			se := newSTSEnv(t)
			in := &sts.AssumeRoleInput{RoleArn: aws.String(tc.roleARN), RoleSessionName: aws.String("connectcases-operator")}
			if tc.externalID != "" {
				in.ExternalId = aws.String(tc.externalID)
			}
			if tc.duration != 0 {
				in.DurationSeconds = aws.Int32(tc.duration)
			}
			out, err := se.stsClient(credentials.NewStaticCredentialsProvider(baseKey, baseSecret, "")).AssumeRole(context.Background(), in)
			if tc.wantCode != "" {
				g.Expect(apiCode(err)).To(Equal(tc.wantCode), "error: %v", err)
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(aws.ToString(out.Credentials.AccessKeyId)).To(HavePrefix("ASIA"))
			g.Expect(aws.ToString(out.Credentials.SessionToken)).NotTo(BeEmpty())
			g.Expect(*out.Credentials.Expiration).To(BeTemporally("~", se.clock().Add(tc.wantLife), time.Second))
			g.Expect(aws.ToString(out.AssumedRoleUser.Arn)).To(HavePrefix("arn:aws:sts::222222222222:assumed-role/"))
		})
	}
}

// TestSTSSessionCredentials signs Connect Cases and STS calls with assumed
// credentials: the token is verified, the role's permissions apply, and the
// credentials are refused once expired.
func TestSTSSessionCredentials(t *testing.T) {
	g := NewWithT(t)
	se := newSTSEnv(t)
	base := se.stsClient(credentials.NewStaticCredentialsProvider(baseKey, baseSecret, ""))
	out, err := base.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(teamRoleARN), RoleSessionName: aws.String("s1"), ExternalId: aws.String("team-b"),
	})
	g.Expect(err).NotTo(HaveOccurred())
	c := out.Credentials
	session := credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	cases := se.casesClient(session)

	_, err = cases.GetCase(context.Background(), &connectcases.GetCaseInput{DomainId: aws.String("d1"), CaseId: aws.String("c1"), Fields: summaryField})
	g.Expect(err).NotTo(HaveOccurred(), "the role may read d1")
	_, err = cases.GetCase(context.Background(), &connectcases.GetCaseInput{DomainId: aws.String("d2"), CaseId: aws.String("c1"), Fields: summaryField})
	g.Expect(apiCode(err)).To(Equal(CodeAccessDenied), "the role may not read d2")

	id, err := se.stsClient(session).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(aws.ToString(id.Account)).To(Equal(teamAccount))
	g.Expect(aws.ToString(id.Arn)).To(Equal("arn:aws:sts::222222222222:assumed-role/cases-writer/s1"))

	badToken := credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "forged")
	_, err = se.casesClient(badToken).GetCase(context.Background(), &connectcases.GetCaseInput{DomainId: aws.String("d1"), CaseId: aws.String("c1"), Fields: summaryField})
	g.Expect(apiCode(err)).To(Equal(CodeUnrecognizedClient), "a forged token is refused")

	se.advance(time.Hour + time.Second)
	_, err = cases.GetCase(context.Background(), &connectcases.GetCaseInput{DomainId: aws.String("d1"), CaseId: aws.String("c1"), Fields: summaryField})
	g.Expect(apiCode(err)).To(Equal(CodeExpiredToken), "expired credentials are refused")
	_, err = se.stsClient(session).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	g.Expect(apiCode(err)).To(Equal(CodeSTSExpiredToken))
}

// TestSTSProviderRefreshes uses the SDK's assume-role provider behind a
// credentials cache, with credentials that live two seconds: each time they
// are about to expire the cache fetches new ones, and no call fails.
func TestSTSProviderRefreshes(t *testing.T) {
	g := NewWithT(t)
	se := newSTSEnv(t)
	base := se.stsClient(credentials.NewStaticCredentialsProvider(baseKey, baseSecret, ""))
	provider := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(base, shortARN), func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = 500 * time.Millisecond
	})
	cases := se.casesClient(provider)
	for i := range 3 {
		creds, err := provider.Retrieve(context.Background())
		g.Expect(err).NotTo(HaveOccurred())
		_, err = cases.GetCase(context.Background(), &connectcases.GetCaseInput{DomainId: aws.String("d1"), CaseId: aws.String("c1"), Fields: summaryField})
		g.Expect(err).NotTo(HaveOccurred(), "call %d", i)
		g.Eventually(func() bool { return se.clock().After(creds.Expires) }, 10*time.Second, 50*time.Millisecond).Should(BeTrue())
	}
	_, err := cases.GetCase(context.Background(), &connectcases.GetCaseInput{DomainId: aws.String("d1"), CaseId: aws.String("c1"), Fields: summaryField})
	g.Expect(err).NotTo(HaveOccurred(), "the call after the last expiry")
	assumed := 0
	for _, c := range se.srv.Calls().Recent {
		if c.Operation == "sts:AssumeRole" && c.Outcome == OutcomeOK {
			assumed++
		}
	}
	g.Expect(assumed).To(Equal(4), "the provider assumed the role again after each expiry")
}

// TestQuotaPerAccount shows that two sessions of roles in the same account
// share the account's UpdateCase bucket, while another account has its own.
func TestQuotaPerAccount(t *testing.T) {
	g := NewWithT(t)
	se := newSTSEnv(t)
	base := se.stsClient(credentials.NewStaticCredentialsProvider(baseKey, baseSecret, ""))
	session := func(name string) *connectcases.Client {
		out, err := base.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(shortARN), RoleSessionName: aws.String(name)})
		g.Expect(err).NotTo(HaveOccurred())
		c := out.Credentials
		return se.casesClient(credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	}
	a, b := session("one"), session("two")
	read := func(c *connectcases.Client) error {
		_, err := c.GetCase(context.Background(), &connectcases.GetCaseInput{DomainId: aws.String("d1"), CaseId: aws.String("c1"), Fields: summaryField})
		return err
	}
	burst := DefaultQuota("GetCase").Burst
	for i := range burst {
		client := a
		if i%2 == 1 {
			client = b
		}
		g.Expect(read(client)).To(Succeed(), "call %d within the account's burst", i)
	}
	g.Expect(apiCode(read(b))).To(Equal(CodeThrottling), "the second session draws from the same account bucket")
	g.Expect(read(se.client)).To(Succeed(), "a principal of another account has its own bucket")
}

// TestSTSWire checks the awsQuery details the SDK does not show: the XML
// error body of an unknown action.
func TestSTSWire(t *testing.T) {
	g := NewWithT(t)
	se := newSTSEnv(t)
	body := "Action=DecodeAuthorizationMessage&Version=2011-06-15&EncodedMessage=x"
	req, err := http.NewRequest(http.MethodPost, se.ts.URL+"/", strings.NewReader(body))
	g.Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	g.Expect(v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: baseKey, SecretAccessKey: baseSecret},
		req, hex.EncodeToString(sum[:]), "sts", testRegion, se.clock())).To(Succeed())
	resp, data := do(t, req)
	g.Expect(resp.StatusCode).To(Equal(http.StatusBadRequest))
	g.Expect(resp.Header.Get("Content-Type")).To(Equal("text/xml"))
	g.Expect(string(data)).To(ContainSubstring(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`))
	g.Expect(string(data)).To(ContainSubstring("<Code>InvalidAction</Code>"))
	g.Expect(string(data)).To(ContainSubstring("<RequestId>"))
}
