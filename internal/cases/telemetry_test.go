package cases

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"

	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

// sessionToken is the session token of the logging tests: it must never
// reach a log line.
const sessionToken = "IQoJb3JpZ2luX2VjEXAMPLE-SESSION-TOKEN-must-not-be-logged"

func TestClientLogsRedactCredentials(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	logs := &testenv.SyncBuffer{}
	logger := funcr.New(func(prefix, args string) { _, _ = logs.Write([]byte(prefix + " " + args + "\n")) }, funcr.Options{Verbosity: 1})
	c := e.client(Options{Logger: logger, MaxAttempts: 1,
		ClientLogMode: aws.LogRequest | aws.LogRequestWithBody | aws.LogResponse | aws.LogResponseWithBody | aws.LogSigning | aws.LogRetries}, sessionToken)
	g.Expect(getDomain(c)).To(Succeed(), "the emulator accepts a session token")

	out := logs.String()
	g.Expect(out).To(ContainSubstring("X-Amz-Security-Token: [REDACTED]"), "the request dump shows the header, not its value")
	g.Expect(out).To(ContainSubstring("Authorization: [REDACTED]"))
	g.Expect(out).To(ContainSubstring("x-amz-security-token:[REDACTED]"), "the signing log's canonical headers")
	g.Expect(out).NotTo(ContainSubstring(sessionToken))
	g.Expect(out).NotTo(ContainSubstring(testSecretKey))
	g.Expect(out).NotTo(ContainSubstring("Signature="))
	g.Expect(out).To(ContainSubstring("domain-a"), "the rest of the request is still logged")
}

func TestRedactCredentials(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"request headers": {
			in:   "PUT /x HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cases/aws4_request, Signature=abc\r\nX-Amz-Security-Token: tok\r\nX-Amz-Date: 20260101T000000Z\r\n",
			want: "PUT /x HTTP/1.1\r\nAuthorization: [REDACTED]\r\nX-Amz-Security-Token: [REDACTED]\r\nX-Amz-Date: 20260101T000000Z\r\n",
		},
		"canonical headers": {
			in:   "host:example\nx-amz-date:20260101T000000Z\nx-amz-security-token:tok\n",
			want: "host:example\nx-amz-date:20260101T000000Z\nx-amz-security-token:[REDACTED]\n",
		},
		"presigned query": {
			in:   "GET /?X-Amz-Credential=AKID%2F1&X-Amz-Security-Token=tok&X-Amz-Signature=sig&a=b",
			want: "GET /?X-Amz-Credential=[REDACTED]&X-Amz-Security-Token=[REDACTED]&X-Amz-Signature=[REDACTED]&a=b",
		},
		"JSON credentials": {
			in:   `{"accessKeyId":"AKID","secretAccessKey":"s3cr\"et","sessionToken":"tok","expiration":1}`,
			want: `{"accessKeyId":"AKID","secretAccessKey":"[REDACTED]","sessionToken":"[REDACTED]","expiration":1}`,
		},
		"XML credentials": {
			in:   "<Credentials><AccessKeyId>AKID</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>tok</SessionToken></Credentials>",
			want: "<Credentials><AccessKeyId>AKID</AccessKeyId><SecretAccessKey>[REDACTED]</SecretAccessKey><SessionToken>[REDACTED]</SessionToken></Credentials>",
		},
		"nothing to redact": {
			in:   "retrying request ConnectCases/UpdateCase, attempt 2",
			want: "retrying request ConnectCases/UpdateCase, attempt 2",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := redactCredentials(tc.in)
			NewWithT(t).Expect(got).To(Equal(tc.want), "redacted:\n%s", strings.ReplaceAll(got, "\r", `\r`))
		})
	}
}
