package cases

import "regexp"

// redacted replaces a credential in the SDK's logs.
const redacted = "[REDACTED]"

// credentialPatterns find the credentials that the SDK's client logs may
// carry, each with the text to keep before the value:
//   - headers of request and response dumps, and the canonical headers of
//     the signing log ("x-amz-security-token:..."): the signature, the
//     session token, cookies;
//   - query parameters of presigned URLs;
//   - members of the JSON and XML documents with which STS, SSO and the
//     container credential endpoints answer.
var credentialPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?im)^((?:proxy-)?authorization|x-amz-security-token|x-amz-signature|x-amz-credential|cookie|set-cookie)([ \t]*:[ \t]*)[^\r\n]*`),
	regexp.MustCompile(`(?i)([?&](?:x-amz-security-token|x-amz-signature|x-amz-credential)=)([^&\s"]*)`),
	regexp.MustCompile(`(?i)("(?:secretAccessKey|sessionToken|token|accessToken|refreshToken|clientSecret)"[ \t]*:[ \t]*)("(?:[^"\\]|\\.)*")`),
	regexp.MustCompile(`(?i)(<(SecretAccessKey|SessionToken|Token)>)[^<]*(</(SecretAccessKey|SessionToken|Token)>)`),
}

// redactCredentials returns s with every credential value it finds replaced
// by [REDACTED]; the names stay, so that the log still shows that the header
// or member was there.
func redactCredentials(s string) string {
	s = credentialPatterns[0].ReplaceAllString(s, "${1}${2}"+redacted)
	s = credentialPatterns[1].ReplaceAllString(s, "${1}"+redacted)
	s = credentialPatterns[2].ReplaceAllString(s, `${1}"`+redacted+`"`)
	return credentialPatterns[3].ReplaceAllString(s, "${1}"+redacted+"${3}")
}
