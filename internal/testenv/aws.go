package testenv

import (
	"bytes"
	"os"
	"sync"
)

// IsolateAWS points the AWS SDK's default chain of this process at the given
// static credentials and region only: no shared config or credentials file,
// no instance metadata, no profile and no endpoint override from the
// developer's environment.
func IsolateAWS(accessKeyID, secretAccessKey, region string) {
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           accessKeyID,
		"AWS_SECRET_ACCESS_KEY":       secretAccessKey,
		"AWS_REGION":                  region,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		_ = os.Setenv(k, v)
	}
	for _, k := range []string{"AWS_ENDPOINT_URL_CONNECTCASES", "AWS_PROFILE", "AWS_SESSION_TOKEN"} {
		_ = os.Unsetenv(k)
	}
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers, such as a logger
// whose output a test reads.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
