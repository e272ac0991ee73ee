package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Signature Version 4 constants.
const (
	sigV4Algorithm  = "AWS4-HMAC-SHA256"
	sigV4Terminator = "aws4_request"
	sigV4Service    = "cases"
	amzDateFormat   = "20060102T150405Z"
	scopeDateFormat = "20060102"
	// maxClockSkew is how far a request's date may be from the emulator's
	// clock, in either direction, as AWS allows.
	maxClockSkew = 5 * time.Minute
)

// Messages AWS answers authentication failures with.
const (
	msgMissingToken     = "Missing Authentication Token"
	msgUnrecognized     = "The security token included in the request is invalid."
	msgSignatureInvalid = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// sigV4Auth is a parsed Authorization header.
type sigV4Auth struct {
	accessKeyID   string
	scopeDate     string
	region        string
	service       string
	terminator    string
	signedHeaders []string
	signature     string
}

// scope returns the credential scope the signature claims.
func (a *sigV4Auth) scope() string {
	return strings.Join([]string{a.scopeDate, a.region, a.service, a.terminator}, "/")
}

// parseAuthorization parses "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=...".
func parseAuthorization(header string) (*sigV4Auth, *apiError) {
	rest, ok := strings.CutPrefix(header, sigV4Algorithm+" ")
	if !ok {
		return nil, authError(CodeIncompleteSignature, "Authorization header must use the "+sigV4Algorithm+" algorithm.")
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if found {
			params[k] = v
		}
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if params[k] == "" {
			return nil, authError(CodeIncompleteSignature, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	cred := strings.Split(params["Credential"], "/")
	if len(cred) != 5 || cred[0] == "" {
		return nil, authError(CodeIncompleteSignature, "Credential must have the form <access key id>/<date>/<region>/<service>/aws4_request.")
	}
	return &sigV4Auth{
		accessKeyID: cred[0], scopeDate: cred[1], region: cred[2], service: cred[3], terminator: cred[4],
		signedHeaders: strings.Split(params["SignedHeaders"], ";"),
		signature:     params["Signature"],
	}, nil
}

// authenticate verifies the request's Signature Version 4 Authorization
// header against the configured principals. It returns the principal and the
// access key id the request named, known even when verification fails.
func (s *Server) authenticate(r *http.Request, body []byte) (Principal, string, *apiError) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return Principal{}, "", authError(CodeMissingAuthentication, msgMissingToken)
	}
	auth, aerr := parseAuthorization(header)
	if aerr != nil {
		return Principal{}, "", aerr
	}
	p, aerr := s.principalFor(r, auth.accessKeyID)
	if aerr != nil {
		return Principal{}, auth.accessKeyID, aerr
	}
	if aerr := s.checkScope(r, auth); aerr != nil {
		return Principal{}, auth.accessKeyID, aerr
	}
	canonical, aerr := canonicalRequest(r, auth.signedHeaders, body)
	if aerr != nil {
		return Principal{}, auth.accessKeyID, aerr
	}
	amzDate := requestDate(r)
	hash := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{sigV4Algorithm, amzDate, auth.scope(), hex.EncodeToString(hash[:])}, "\n")
	key := signingKey(p.SecretAccessKey, auth.scopeDate, auth.region, auth.service)
	want := hmacSHA256(key, []byte(toSign))
	got, err := hex.DecodeString(auth.signature)
	if err != nil || !hmac.Equal(want, got) {
		return Principal{}, auth.accessKeyID, authError(CodeInvalidSignature, msgSignatureInvalid)
	}
	return p, auth.accessKeyID, nil
}

// checkScope verifies the credential scope and the request date: service
// cases, the emulator's region, the request's day, and a date within five
// minutes of the emulator's clock.
func (s *Server) checkScope(r *http.Request, auth *sigV4Auth) *apiError {
	switch {
	case auth.terminator != sigV4Terminator:
		return authError(CodeIncompleteSignature, "Credential should be scoped with a valid terminator: 'aws4_request'.")
	case auth.service != sigV4Service:
		return authError(CodeInvalidSignature, "Credential should be scoped to correct service: '"+sigV4Service+"'.")
	case auth.region != s.region:
		return authError(CodeInvalidSignature, fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", auth.region))
	}
	if !slices.Contains(auth.signedHeaders, "host") {
		return authError(CodeInvalidSignature, "'Host' must be a signed header.")
	}
	amzDate := requestDate(r)
	if amzDate == "" {
		return authError(CodeIncompleteSignature, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return authError(CodeIncompleteSignature, "Date must be in ISO-8601 basic format (yyyyMMdd'T'HHmmss'Z').")
	}
	if auth.scopeDate != t.Format(scopeDateFormat) {
		return authError(CodeInvalidSignature, fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s'.", auth.scopeDate, t.Format(scopeDateFormat)))
	}
	now := s.now().UTC()
	if t.Before(now.Add(-maxClockSkew)) {
		return authError(CodeInvalidSignature, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			amzDate, now.Add(-maxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat)))
	}
	if t.After(now.Add(maxClockSkew)) {
		return authError(CodeInvalidSignature, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)",
			amzDate, now.Add(maxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat)))
	}
	return nil
}

// requestDate returns the request's date in ISO-8601 basic format, from
// X-Amz-Date or else from Date.
func requestDate(r *http.Request) string {
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		return d
	}
	if d := r.Header.Get("Date"); d != "" {
		if t, err := http.ParseTime(d); err == nil {
			return t.UTC().Format(amzDateFormat)
		}
		return d
	}
	return ""
}

// canonicalRequest builds the SigV4 canonical request. The payload hash is
// always computed from the body, so a body changed after signing fails.
func canonicalRequest(r *http.Request, signedHeaders []string, body []byte) (string, *apiError) {
	if !sort.StringsAreSorted(signedHeaders) {
		return "", authError(CodeInvalidSignature, msgSignatureInvalid)
	}
	var headers strings.Builder
	for _, name := range signedHeaders {
		if name == "" || name != strings.ToLower(name) {
			return "", authError(CodeInvalidSignature, msgSignatureInvalid)
		}
		values := headerValues(r, name)
		if values == nil {
			return "", authError(CodeInvalidSignature, fmt.Sprintf("Signed header '%s' is not present in the request.", name))
		}
		for i, v := range values {
			values[i] = strings.Join(strings.Fields(v), " ")
		}
		headers.WriteString(name + ":" + strings.Join(values, ",") + "\n")
	}
	payload := sha256.Sum256(body)
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	return strings.Join([]string{
		r.Method,
		uriEncode(path, false),
		canonicalQuery(r.URL.RawQuery),
		headers.String(),
		strings.Join(signedHeaders, ";"),
		hex.EncodeToString(payload[:]),
	}, "\n"), nil
}

// headerValues returns the values of a header as the client sent them. Go's
// server moves Host out of the header map and may do so for Content-Length.
func headerValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		return []string{r.Host}
	case "content-length":
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			return append([]string(nil), v...)
		}
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
		return nil
	}
	v := r.Header.Values(name)
	if len(v) == 0 {
		return nil
	}
	return append([]string(nil), v...)
}

// canonicalQuery sorts the query by name, then value, and encodes it the
// SigV4 way.
func canonicalQuery(raw string) string {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range values {
		for _, v := range vs {
			pairs = append(pairs, pair{uriEncode(k, true), uriEncode(v, true)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// uriEncode percent-encodes every byte but the unreserved characters
// (A-Z a-z 0-9 - _ . ~), and '/' too when encodeSlash is set.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		unreserved := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~'
		if unreserved || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// signingKey derives the SigV4 signing key from the secret.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte(sigV4Terminator))
}

// hmacSHA256 returns HMAC-SHA256(key, data).
func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}
