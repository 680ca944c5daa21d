package filter

import (
	"strconv"
	"strings"
)

// maxIncludeDepth is nfdump's MAX_INCLUDE_DEPTH: at most ten @include
// files open at once.
const maxIncludeDepth = 10

// source is one text the scanner reads: the filter itself or an @include
// file, with what to restore when it ends.
type source struct {
	text      string
	pos       int
	savedFile string // the includer's file name and line, restored at the end
	savedLine int
}

// scanner splits filter text into tokens the way nfdump 1.7.1's flex
// scanner does: the longest match wins, and on a tie the rule written
// first (numbers and keywords before strings). It follows @include into
// other files and counts lines for the error messages.
type scanner struct {
	stack []source
	line  int    // nfdump's lineno
	file  string // nfdump's FilterFilename: "" for the command line
	opts  *Options
	total int // bytes read so far, the filter and its includes
}

func newScanner(src, file string, opts *Options) *scanner {
	return &scanner{stack: []source{{text: src}}, line: 1, file: file, opts: opts, total: len(src)}
}

func isStringChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// next returns the next token. Errors are those of @include (a missing
// file, too deep a nesting, too much text), which end nfdump with status
// 255 before the parser sees anything.
// itemsBefore returns an estimate, at least the number, of the list
// items (runs of string characters) between the scanner's position and
// the next c in the current source, plus one for an item already
// scanned: the capacity that spares a list of a thousand addresses the
// copies of growing to it. It is at most maxListGuess, so that text that
// is no list (an unclosed bracket before a megabyte of words) reserves
// no more than a list would take as it grows.
func (s *scanner) itemsBefore(c byte) int {
	top := &s.stack[len(s.stack)-1]
	rest := top.text[top.pos:]
	if i := strings.IndexByte(rest, c); i >= 0 {
		rest = rest[:i]
	}
	n, in := 1, false
	for i := 0; i < len(rest); i++ {
		str := isStringChar(rest[i])
		if str && !in {
			n++
		}
		in = str
	}
	return min(n, maxListGuess)
}

// maxListGuess bounds itemsBefore's estimate.
const maxListGuess = 1 << 16

func (s *scanner) next() (token, error) {
	for {
		top := &s.stack[len(s.stack)-1]
		src, i := top.text, top.pos
		if i >= len(src) {
			if len(s.stack) == 1 {
				return s.tok(tEOF, ""), nil
			}
			s.file, s.line = top.savedFile, top.savedLine
			s.stack = s.stack[:len(s.stack)-1]
			continue
		}
		c := src[i]
		switch {
		case c == ' ' || c == '\t':
			top.pos++
			continue
		case c == '\n':
			s.line++
			top.pos++
			continue
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			top.pos = i
			continue
		case c == '@' && hasPrefixFold(src[i:], "@include"):
			top.pos = i + len("@include")
			if err := s.include(top); err != nil {
				return token{}, err
			}
			continue
		case isStringChar(c):
			j := i
			for j < len(src) && isStringChar(src[j]) {
				j++
			}
			top.pos = j
			return s.word(src[i:j]), nil
		case c == '\'' || c == '"':
			// 1.7.4's quoted strings: up to the next quote of the same
			// kind, printable characters only.
			j := i + 1
			for j < len(src) && src[j] != c && ' ' <= src[j] && src[j] <= '~' {
				j++
			}
			if j < len(src) && src[j] == c {
				top.pos = j + 1
				t := s.tok(tString, src[i:j+1])
				t.quote = true
				return t, nil
			}
		}
		// Operators, then any other character as itself.
		two := ""
		if i+1 < len(src) {
			two = src[i : i+2]
		}
		var k tokKind
		n := 1
		switch {
		case two == "&&":
			k, n = tAnd, 2
		case two == "||":
			k, n = tOr, 2
		case two == "==":
			k, n = tEQ, 2
		case two == ">=":
			k, n = tGE, 2
		case two == "<=":
			k, n = tLE, 2
		case c == '!':
			k = tNot
		case c == '=':
			k = tEQ
		case c == '>':
			k = tGT
		case c == '<':
			k = tLT
		default:
			k = tChar
		}
		top.pos = i + n
		return s.tok(k, src[i:i+n]), nil
	}
}

func (s *scanner) tok(k tokKind, text string) token {
	return token{kind: k, text: text, line: s.line, file: s.file}
}

// word classifies a run of string characters: a keyword or a number when
// the whole run is one (flex prefers the earlier rule on a tie), else a
// string.
func (s *scanner) word(w string) token {
	if k, ok := lookupKeyword(w); ok {
		return s.tok(k, w)
	}
	if v, ok := number(w); ok {
		t := s.tok(tNumber, w)
		t.num = v
		return t
	}
	return s.tok(tString, w)
}

// number reads nfdump's NUMBER: decimal, 0x hex, or decimal with a k, m,
// g or t suffix scaling by powers of 1000. Like strtoull, a value too big
// saturates; the scaling then wraps as nfdump's 64-bit multiply does.
func number(w string) (uint64, bool) {
	digits := 0
	for digits < len(w) && isDigit(w[digits]) {
		digits++
	}
	switch {
	case digits == len(w):
		return parseSat(w, 10), true
	case len(w) > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X'):
		for i := 2; i < len(w); i++ {
			if !isHexDigit(w[i]) {
				return 0, false
			}
		}
		return parseSat(w[2:], 16), true
	case digits > 0 && digits == len(w)-1:
		v := parseSat(w[:digits], 10)
		switch w[digits] {
		case 'k', 'K':
			return v * 1000, true
		case 'm', 'M':
			return v * 1000 * 1000, true
		case 'g', 'G':
			return v * 1000 * 1000 * 1000, true
		case 't', 'T':
			return v * 1000 * 1000 * 1000 * 1000, true
		}
	}
	return 0, false
}

func parseSat(s string, base int) uint64 {
	v, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		// Only a range error is possible here: strtoull's ULLONG_MAX.
		return ^uint64(0)
	}
	return v
}

func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// include reads the file name after @include (flex's incl state: blanks,
// then everything up to a blank or newline) and continues in that file.
func (s *scanner) include(top *source) error {
	src, i := top.text, top.pos
	for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n') {
		i++
	}
	j := i
	for j < len(src) && src[j] != ' ' && src[j] != '\t' && src[j] != '\n' {
		j++
	}
	top.pos = j
	if i == j {
		// @include at the end of the text: flex ends the scan there.
		return nil
	}
	name := src[i:j]
	if len(s.stack) > maxIncludeDepth {
		return &IncludeError{Msg: "Includes nested too deeply"}
	}
	data, err := s.opts.open(name)
	if err != nil {
		return &IncludeError{Name: name, Msg: "Failed to open include file '" + name + "': " + ErrnoText(err)}
	}
	s.total += len(data)
	if s.opts.MaxText > 0 && s.total > s.opts.MaxText {
		return &IncludeError{Name: name, Msg: "Filter text with its include files is larger than " + strconv.Itoa(s.opts.MaxText) + " bytes at include file '" + name + "'"}
	}
	s.stack = append(s.stack, source{text: string(data), savedFile: s.file, savedLine: s.line})
	s.file, s.line = name, 1
	return nil
}
