// Package emulator is a wire-faithful stand-in for the Amazon Connect Cases
// API, for tests, demos and benchmarks that have neither network nor AWS
// account. A Server is an http.Handler over an in-memory store; point the
// AWS SDK at it with BaseEndpoint (or AWS_ENDPOINT_URL_CONNECTCASES), static
// credentials and the emulator's region.
//
// # Model-driven
//
// The Smithy model of Connect Cases (testdata/connectcases.json, embedded)
// is compiled at start-up. Each served operation is routed at the method and
// path of its smithy.api#http trait, and its input is checked against the
// model: required members, length, range, pattern and enum traits (member
// traits overriding their target's), and unions with exactly one member set.
// A violation is a 400 ValidationException whose message names the member in
// the AWS form "Value at 'fields.1.member.value' failed to satisfy
// constraint: ...". A body that is not JSON, or whose JSON types do not fit
// the model, is a 400 SerializationException, as AWS answers. Unknown JSON
// members are ignored, as AWS does.
//
// Served operations: CreateDomain, GetDomain, ListDomains, CreateField,
// ListFields, BatchGetField, BatchPutFieldOptions, ListFieldOptions,
// CreateTemplate, CreateCase, GetCase, UpdateCase and SearchCases. Any other
// request is a 404 UnknownOperationException.
//
// # Semantics
//
//   - An unknown domain, case or template is a 404 ResourceNotFoundException
//     with resourceId and resourceType Domain, Case or Template. A field id
//     that is not a field of the domain, in UpdateCase, GetCase, CreateCase,
//     SearchCases, CreateTemplate or the field operations, is the same error
//     with resourceType Field: the model does not say what the real service
//     answers there, and this is the most useful reading. BatchGetField is
//     the exception: it lists unknown ids in its errors member, with
//     errorCode ResourceNotFoundException, as its output shape provides.
//   - A value must fit its field: Number takes doubleValue, Boolean
//     booleanValue, Text, Url and DateTime stringValue, SingleSelect a
//     stringValue that is one of the field's active options, User
//     userArnValue. Anything else is a ValidationException naming the
//     field. emptyValue clears a field, unless the case's template requires
//     it. Non-finite doubles are refused.
//   - UpdateCase checks every value before storing any, so a rejected call
//     changes nothing; it answers 200 with an empty body. A field id given
//     twice in one call is a ValidationException. GetCase returns exactly
//     what is stored, in the order the fields were asked for, and omits
//     fields without a value (a cleared field has none).
//   - CreateCase needs an Active template and a value for each of its
//     required fields; a repeated clientToken returns the first case.
//   - SearchCases supports every CaseFilter member (field comparisons, not,
//     andAll, orAll, tag equality), searchTerm as a case-insensitive
//     substring of string values, sorts and paging.
//   - Listings and GetCase page with opaque nextToken values; a token of
//     another operation is a ValidationException.
//
// # Authentication and authorisation
//
// Every AWS request must carry a Signature Version 4 Authorization header
// for service cases and the emulator's region, signed with a configured
// principal's secret. The emulator verifies it itself: canonical request
// (with the payload hash computed from the body it received), string to
// sign, HMAC key chain. X-Amz-Date (or Date) must be within five minutes of
// the emulator's clock. X-Amz-Security-Token is accepted and not checked.
// Presigned (query string) requests are not supported. Failures are 403:
// no Authorization header, MissingAuthenticationTokenException; unknown
// access key, UnrecognizedClientException; wrong signature, wrong region or
// service, or a stale date ("Signature expired: ..."),
// InvalidSignatureException; a malformed header,
// IncompleteSignatureException. A principal may call an operation only if
// one of its actions matches "cases:<Operation>" and, for operations on a
// domain, one of its domains matches the domain id or ARN ('*' is a
// wildcard); otherwise AccessDeniedException.
//
// # Pipeline, quotas and faults
//
// A request is routed, authenticated, authorised, exposed to injected
// faults, metered, validated and served, in that order. Quotas are token
// buckets per principal and operation: UpdateCase 2 requests a second with
// a burst of 2, GetCase 4 with a burst of 10, every other operation 10 and
// 10, unless configured; an empty bucket is a 429 ThrottlingException.
// Faults (see Fault) are counted or drawn from a random stream seeded by
// Options.RandomSeed, for every call of an operation or of one domain:
// InternalServerException, ThrottlingException, ConnectionReset (the
// connection is closed with a TCP reset and no response), Latency, and the
// answers of the AWS front end or a proxy that the model does not list
// (ServiceUnavailable, a 503 with an unmodelled code; TooManyRequests, a 429
// with a code no list holds; BadGateway, a 502 HTML page; GatewayTimeout, a
// 504 with an empty body; ExpiredToken). Answers carry Retry-After when
// RetryAfterSeconds is set. An injected failure never changes the store.
//
// Every response of the service carries x-amzn-RequestId (a proxy's answer
// does not). Errors carry X-Amzn-ErrorType
// with the code and a JSON body with message and the error shape's other
// members, so the SDK returns its typed errors (*types.ValidationException,
// *types.ResourceNotFoundException and so on) or, for the authentication
// codes, a smithy.APIError with that ErrorCode.
//
// # Admin API
//
// Unauthenticated endpoints under /_emulator/, outside the AWS surface:
//
//	GET  /_emulator/healthz                      {"status":"ok"}
//	GET  /_emulator/state                        domains, fields, options, templates, cases and values
//	GET  /_emulator/calls                        counts per operation and outcome, the last 1000 calls,
//	                                             and the requests in flight
//	GET  /_emulator/faults                       the faults in force (counted ones show what remains)
//	PUT  /_emulator/faults                       a JSON list of faults that replaces them
//	GET  /_emulator/quotas                       the quota of every operation
//	PUT  /_emulator/quotas                       {"UpdateCase":{"rps":2,"burst":2}} replaces those given
//	POST /_emulator/reset[?faults=true]          back to the seed, calls cleared, buckets full;
//	                                             faults stay unless faults=true restores the initial ones
//	GET  /_emulator/cases/{domainId}/{caseId}    {"fields":{"<fieldId>":{"stringValue":"..."}}}
//	PUT  /_emulator/cases/{domainId}/{caseId}    same body: changes values out of band (drift), all or none
//
// Admin errors are {"message": "..."} with status 400 or 404.
package emulator
