package emulator

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// encodeToken returns the opaque nextToken that resumes op at offset.
func encodeToken(op string, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(op + ":" + strconv.Itoa(offset)))
}

// decodeToken returns the offset a nextToken of op resumes at; an empty
// token starts at zero. A token of another operation, or garbage, is a
// ValidationException.
func decodeToken(op, token string) (int, *apiError) {
	if token == "" {
		return 0, nil
	}
	invalid := validationError("Value at 'nextToken' failed to satisfy constraint: Member must be a token returned by %s", op)
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, invalid
	}
	name, off, ok := strings.Cut(string(raw), ":")
	if !ok || name != op {
		return 0, invalid
	}
	n, err := strconv.Atoi(off)
	if err != nil || n < 0 {
		return 0, invalid
	}
	return n, nil
}

// paginate returns the page of items that starts at token and holds at most
// size items, with the token of the next page ("" on the last).
func paginate[T any](items []T, op, token string, size int) ([]T, string, *apiError) {
	start, aerr := decodeToken(op, token)
	if aerr != nil {
		return nil, "", aerr
	}
	if start > len(items) {
		return nil, "", validationError("Value at 'nextToken' failed to satisfy constraint: Member must be a token of this listing")
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = encodeToken(op, end)
	}
	return items[start:end], next, nil
}

// pageSize returns the requested page size, or def when none was given.
func pageSize(requested *int, def int) int {
	if requested == nil || *requested <= 0 {
		return def
	}
	return *requested
}
