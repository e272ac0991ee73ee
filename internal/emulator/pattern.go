package emulator

import (
	"fmt"
	"regexp"
	"strings"
)

// pattern matches a Smithy (ECMAScript) pattern with RE2. The model uses one
// construct RE2 lacks, a leading negative lookahead `^(?!X)`; it is split into
// a prefix that must not match and the rest of the expression.
type pattern struct {
	notPrefix *regexp.Regexp
	re        *regexp.Regexp
}

// MatchString reports whether s satisfies the pattern.
func (p *pattern) MatchString(s string) bool {
	if p.notPrefix != nil && p.notPrefix.MatchString(s) {
		return false
	}
	return p.re.MatchString(s)
}

// compilePattern translates a Smithy pattern into a pattern.
func compilePattern(src string) (*pattern, error) {
	expr := src
	p := &pattern{}
	if strings.HasPrefix(expr, "^(?!") {
		end := matchingParen(expr, 1)
		if end < 0 {
			return nil, fmt.Errorf("unbalanced lookahead in pattern %q", src)
		}
		np, err := regexp.Compile("^(?:" + expr[4:end] + ")")
		if err != nil {
			return nil, fmt.Errorf("failed to compile lookahead of pattern %q: %w", src, err)
		}
		p.notPrefix = np
		expr = "^" + expr[end+1:]
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("failed to compile pattern %q: %w", src, err)
	}
	p.re = re
	return p, nil
}

// matchingParen returns the index of the parenthesis closing the one at open,
// honouring backslash escapes and character classes, or -1.
func matchingParen(s string, open int) int {
	depth, inClass := 0, false
	for i := open; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}
