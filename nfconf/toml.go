package nfconf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// nfdump parses the file with tomlc99. The parser below is ours and
// covers what that parser accepts, with its error texts for the mistakes
// one makes in a hand-written file, so that gocapd accepts and refuses the
// same files with the same line numbers. Values are kept raw, as tomlc99
// keeps them, and converted only where an exporter is read.

// tomlTable keeps its plain values, arrays and tables apart, each in the
// order of the file, because that is the order in which tomlc99 lists a
// table's keys.
type tomlTable struct {
	vals     []tomlKeyVal
	arrays   []*tomlArray
	arrKeys  []string
	tables   []*tomlTable
	tabKeys  []string
	implicit bool // made by a [a.b] header on the way to b; may still be defined
	readonly bool // an inline table
}

type tomlKeyVal struct{ key, raw string }

// tomlArray holds raw values, arrays or inline tables.
type tomlArray struct {
	items []tomlItem
	kind  byte // 't' for an array of tables ([[x]])
}

type tomlItem struct {
	raw string // a raw value, when arr and tab are nil
	arr *tomlArray
	tab *tomlTable
}

func (t *tomlTable) keys() []string {
	keys := make([]string, 0, len(t.vals)+len(t.arrKeys)+len(t.tabKeys))
	for _, v := range t.vals {
		keys = append(keys, v.key)
	}
	keys = append(keys, t.arrKeys...)
	return append(keys, t.tabKeys...)
}

func (t *tomlTable) has(key string) bool {
	for _, k := range t.keys() {
		if k == key {
			return true
		}
	}
	return false
}

func (t *tomlTable) table(key string) *tomlTable {
	for i, k := range t.tabKeys {
		if k == key {
			return t.tables[i]
		}
	}
	return nil
}

func (t *tomlTable) array(key string) *tomlArray {
	for i, k := range t.arrKeys {
		if k == key {
			return t.arrays[i]
		}
	}
	return nil
}

// str converts a raw string value; numbers, booleans and dates are no
// strings.
func (it tomlItem) str() (string, bool) {
	if it.arr != nil || it.tab != nil || it.raw == "" {
		return "", false
	}
	s := it.raw
	switch {
	case strings.HasPrefix(s, "'''"):
		return trimFirstNewline(s[3 : len(s)-3]), true
	case strings.HasPrefix(s, `"""`):
		v, err := unescapeBasic(trimFirstNewline(s[3:len(s)-3]), true)
		return v, err == nil
	case s[0] == '\'':
		return s[1 : len(s)-1], true
	case s[0] == '"':
		v, err := unescapeBasic(s[1:len(s)-1], false)
		return v, err == nil
	}
	return "", false
}

func trimFirstNewline(s string) string {
	if strings.HasPrefix(s, "\r\n") {
		return s[2:]
	}
	return strings.TrimPrefix(s, "\n")
}

// unescapeBasic resolves the escapes of a basic string; in a multi-line
// string a backslash at the end of a line also swallows the line break
// and the white space after it.
func unescapeBasic(s string, multiline bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch != '\\' {
			b.WriteByte(ch)
			continue
		}
		i++
		if i >= len(s) {
			return "", errors.New("last backslash is invalid")
		}
		if multiline && strings.IndexByte(" \t\r\n", s[i]) >= 0 {
			j := i
			for j < len(s) && strings.IndexByte(" \t\r", s[j]) >= 0 {
				j++
			}
			if j < len(s) && s[j] == '\n' {
				for j < len(s) && strings.IndexByte(" \t\r\n", s[j]) >= 0 {
					j++
				}
				i = j - 1
				continue
			}
		}
		switch s[i] {
		case 'b':
			b.WriteByte('\b')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'f':
			b.WriteByte('\f')
		case 'r':
			b.WriteByte('\r')
		case '"', '\\':
			b.WriteByte(s[i])
		case 'u', 'U':
			n := 4
			if s[i] == 'U' {
				n = 8
			}
			if i+n >= len(s) {
				return "", errors.New("expect hex char")
			}
			v, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
			if err != nil || !utf8.ValidRune(rune(v)) {
				return "", errors.New("invalid unicode escape")
			}
			b.WriteRune(rune(v))
			i += n
		default:
			return "", fmt.Errorf("illegal escape char \\%c", s[i])
		}
	}
	return b.String(), nil
}

// The tokens of the file.
type tokKind int

const (
	tokNewline tokKind = iota // also the end of the file, with eof set
	tokString                 // a key or a raw value, quotes included
	tokDot
	tokEqual
	tokComma
	tokLBracket
	tokRBracket
	tokLBrace
	tokRBrace
)

type token struct {
	kind     tokKind
	pos, len int
	line     int
	eof      bool
}

// tomlParser reads the file token by token. Whether a dot is a token of
// its own depends on where the parser is: in keys it separates, in values
// it belongs to numbers.
type tomlParser struct {
	src  string
	tok  token
	root *tomlTable
	cur  *tomlTable
}

type tomlError struct {
	line int
	msg  string
}

func (e *tomlError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func syntaxErr(line int, msg string) error { return &tomlError{line, msg} }

func parseTOML(text []byte) (*tomlTable, error) {
	src := string(text)
	// tomlc99 reads the file as a C string.
	if i := strings.IndexByte(src, 0); i >= 0 {
		src = src[:i]
	}
	p := &tomlParser{src: src, root: &tomlTable{}}
	p.cur = p.root
	p.tok = token{kind: tokNewline, line: 1}
	for !p.tok.eof {
		switch p.tok.kind {
		case tokNewline:
			if err := p.next(true); err != nil {
				return nil, err
			}
		case tokString:
			if err := p.keyVal(p.cur); err != nil {
				return nil, err
			}
			if p.tok.kind != tokNewline {
				return nil, syntaxErr(p.tok.line, "extra chars after value")
			}
			if err := p.next(true); err != nil {
				return nil, err
			}
		case tokLBracket:
			if err := p.header(); err != nil {
				return nil, err
			}
		default:
			return nil, syntaxErr(p.tok.line, "syntax error")
		}
	}
	return p.root, nil
}

func (p *tomlParser) text(t token) string { return p.src[t.pos : t.pos+t.len] }

// next moves past the current token to the next one.
func (p *tomlParser) next(dotSpecial bool) error {
	line := p.tok.line
	pos := p.tok.pos
	for _, c := range p.src[pos : pos+p.tok.len] {
		if c == '\n' {
			line++
		}
	}
	pos += p.tok.len
	for pos < len(p.src) {
		c := p.src[pos]
		if c == '#' {
			for pos < len(p.src) && p.src[pos] != '\n' {
				pos++
			}
			continue
		}
		set := func(k tokKind) error {
			p.tok = token{kind: k, pos: pos, len: 1, line: line}
			return nil
		}
		if dotSpecial && c == '.' {
			return set(tokDot)
		}
		switch c {
		case ',':
			return set(tokComma)
		case '=':
			return set(tokEqual)
		case '{':
			return set(tokLBrace)
		case '}':
			return set(tokRBrace)
		case '[':
			return set(tokLBracket)
		case ']':
			return set(tokRBracket)
		case '\n':
			return set(tokNewline)
		case ' ', '\t', '\r':
			pos++
			continue
		}
		return p.scanString(pos, line, dotSpecial)
	}
	p.tok = token{kind: tokNewline, pos: len(p.src), line: line, eof: true}
	return nil
}

// scanString makes a string token at pos: a quoted string, a date or
// time, or a bare word (which may be empty when pos holds a character no
// token starts with; the parser then reports what it expected).
func (p *tomlParser) scanString(pos, line int, dotSpecial bool) error {
	s := p.src[pos:]
	set := func(n int) error {
		p.tok = token{kind: tokString, pos: pos, len: n, line: line}
		return nil
	}
	switch {
	case strings.HasPrefix(s, "'''"):
		q := strings.Index(s[3:], "'''")
		if q < 0 {
			return syntaxErr(line, "unterminated triple-s-quote")
		}
		end := 3 + q
		for end+3 < len(s) && s[end+3] == '\'' {
			end++
		}
		return set(end + 3)
	case strings.HasPrefix(s, `"""`):
		end := -1
		for q := 3; ; {
			i := strings.Index(s[q:], `"""`)
			if i < 0 {
				return syntaxErr(line, "unterminated triple-d-quote")
			}
			q += i
			if s[q-1] == '\\' {
				q++
				continue
			}
			for q+3 < len(s) && s[q+3] == '"' {
				q++
			}
			end = q
			break
		}
		if err := checkEscapes(s[3:end], line, true); err != nil {
			return err
		}
		return set(end + 3)
	case s[0] == '\'':
		i := strings.IndexAny(s[1:], "'\n")
		if i < 0 || s[1+i] != '\'' {
			return syntaxErr(line, "unterminated s-quote")
		}
		return set(i + 2)
	case s[0] == '"':
		i := 1
		for escape := false; i < len(s); i++ {
			c := s[i]
			if escape {
				escape = false
				continue
			}
			if c == '\\' {
				escape = true
				continue
			}
			if c == '\'' && strings.HasPrefix(s[i:], "'''") {
				return syntaxErr(line, "triple-s-quote inside string lit")
			}
			if c == '\n' || c == '"' {
				break
			}
		}
		if i >= len(s) || s[i] != '"' {
			return syntaxErr(line, "unterminated quote")
		}
		if err := checkEscapes(s[1:i], line, false); err != nil {
			return err
		}
		return set(i + 1)
	case isDate(s) || isTime(s):
		n := 0
		for n < len(s) && strings.IndexByte("0123456789.:+-Tt Zz", s[n]) >= 0 {
			n++
		}
		for n > 0 && s[n-1] == ' ' {
			n--
		}
		return set(n)
	}
	n := 0
	for ; n < len(s) && s[n] != '\n'; n++ {
		c := s[n]
		if c == '.' && dotSpecial {
			break
		}
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || strings.IndexByte("0123456789+-_.", c) >= 0 {
			continue
		}
		break
	}
	return set(n)
}

// checkEscapes checks the escapes of a basic string as the scanner does.
func checkEscapes(s string, line int, multiline bool) error {
	hex, escape := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escape:
			escape = false
			switch {
			case strings.IndexByte("btnfr\"\\", c) >= 0:
			case c == 'u':
				hex = 4
			case c == 'U':
				hex = 8
			case multiline && strings.IndexByte(" \t\r\n", c) >= 0 && lineEnds(s[i:]):
			default:
				return syntaxErr(line, "bad escape char")
			}
		case hex > 0:
			hex--
			if strings.IndexByte("0123456789ABCDEF", c) < 0 {
				return syntaxErr(line, "expect hex char")
			}
		case c == '\\':
			escape = true
		}
	}
	if escape {
		return syntaxErr(line, "expect an escape char")
	}
	if hex > 0 {
		return syntaxErr(line, "expected more hex char")
	}
	return nil
}

// lineEnds reports whether only blanks are left before the end of the
// line.
func lineEnds(s string) bool {
	t := strings.TrimLeft(s, " \t\r")
	return strings.HasPrefix(t, "\n")
}

func digits(s string, n int) bool {
	if len(s) < n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isDate(s string) bool {
	return digits(s, 4) && len(s) > 4 && s[4] == '-' && digits(s[5:], 2) && len(s) > 7 && s[7] == '-' && digits(s[8:], 2)
}

func isTime(s string) bool {
	return digits(s, 2) && len(s) > 2 && s[2] == ':' && digits(s[3:], 2) && len(s) > 5 && s[5] == ':' && digits(s[6:], 2)
}

// key turns a key token into the key: quotes removed and escapes
// resolved; a bare key may hold only letters, digits, '_' and '-'.
func (p *tomlParser) key(t token) (string, error) {
	s := p.text(t)
	if s != "" && (s[0] == '\'' || s[0] == '"') {
		q := s[:1]
		n := 1
		if strings.HasPrefix(s, q+q+q) && len(s) >= 6 {
			n = 3
		}
		k := s[n : len(s)-n]
		if q == `"` {
			var err error
			if k, err = unescapeBasic(k, n == 3); err != nil {
				return "", syntaxErr(t.line, err.Error())
			}
		}
		if strings.IndexByte(k, '\n') >= 0 {
			return "", syntaxErr(t.line, "bad key")
		}
		return k, nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			continue
		}
		return "", syntaxErr(t.line, "bad key")
	}
	return s, nil
}

// expect checks that the current token is k and moves on; anything else
// is the parser's own mistake in tomlc99 ("internal error").
func (p *tomlParser) expect(k tokKind, dotSpecial bool) error {
	if p.tok.kind != k {
		return syntaxErr(p.tok.line, "syntax error")
	}
	return p.next(dotSpecial)
}

// addTable makes the table key in t, or defines the implicit one a header
// made on its way.
func (p *tomlParser) addTable(t *tomlTable, kt token) (*tomlTable, error) {
	k, err := p.key(kt)
	if err != nil {
		return nil, err
	}
	if sub := t.table(k); sub != nil && sub.implicit {
		sub.implicit = false
		return sub, nil
	}
	if t.has(k) {
		return nil, syntaxErr(kt.line, "key exists")
	}
	sub := &tomlTable{}
	t.tables, t.tabKeys = append(t.tables, sub), append(t.tabKeys, k)
	return sub, nil
}

func (p *tomlParser) addArray(t *tomlTable, kt token, kind byte) (*tomlArray, error) {
	k, err := p.key(kt)
	if err != nil {
		return nil, err
	}
	if t.has(k) {
		return nil, syntaxErr(kt.line, "key exists")
	}
	a := &tomlArray{kind: kind}
	t.arrays, t.arrKeys = append(t.arrays, a), append(t.arrKeys, k)
	return a, nil
}

// keyVal reads key = value, where key may be dotted.
func (p *tomlParser) keyVal(t *tomlTable) error {
	if t.readonly {
		return syntaxErr(p.tok.line, "cannot insert new entry into existing table")
	}
	kt := p.tok
	if err := p.expect(tokString, true); err != nil {
		return err
	}
	if p.tok.kind == tokDot {
		k, err := p.key(kt)
		if err != nil {
			return err
		}
		sub := t.table(k)
		if sub == nil {
			if sub, err = p.addTable(t, kt); err != nil {
				return err
			}
		}
		if err := p.next(true); err != nil {
			return err
		}
		return p.keyVal(sub)
	}
	if p.tok.kind != tokEqual {
		return syntaxErr(p.tok.line, "missing =")
	}
	if err := p.next(false); err != nil {
		return err
	}
	switch p.tok.kind {
	case tokString:
		k, err := p.key(kt)
		if err != nil {
			return err
		}
		if t.has(k) {
			return syntaxErr(kt.line, "key exists")
		}
		t.vals = append(t.vals, tomlKeyVal{k, p.text(p.tok)})
		return p.next(true)
	case tokLBracket:
		a, err := p.addArray(t, kt, 0)
		if err != nil {
			return err
		}
		return p.array(a)
	case tokLBrace:
		sub, err := p.addTable(t, kt)
		if err != nil {
			return err
		}
		return p.inlineTable(sub)
	}
	return syntaxErr(p.tok.line, "syntax error")
}

func (p *tomlParser) skipNewlines(dotSpecial bool) error {
	for p.tok.kind == tokNewline && !p.tok.eof {
		if err := p.next(dotSpecial); err != nil {
			return err
		}
	}
	return nil
}

// array reads [ value, ... ], over several lines if need be.
func (p *tomlParser) array(a *tomlArray) error {
	if err := p.expect(tokLBracket, false); err != nil {
		return err
	}
	for {
		if err := p.skipNewlines(false); err != nil {
			return err
		}
		if p.tok.kind == tokRBracket {
			break
		}
		switch p.tok.kind {
		case tokString:
			a.items = append(a.items, tomlItem{raw: p.text(p.tok)})
			if err := p.next(false); err != nil {
				return err
			}
		case tokLBracket:
			sub := &tomlArray{}
			a.items = append(a.items, tomlItem{arr: sub})
			if err := p.array(sub); err != nil {
				return err
			}
		case tokLBrace:
			sub := &tomlTable{}
			a.items = append(a.items, tomlItem{tab: sub})
			if err := p.inlineTable(sub); err != nil {
				return err
			}
		default:
			return syntaxErr(p.tok.line, "syntax error")
		}
		if err := p.skipNewlines(false); err != nil {
			return err
		}
		if p.tok.kind != tokComma {
			break
		}
		if err := p.next(false); err != nil {
			return err
		}
	}
	return p.expect(tokRBracket, true)
}

// inlineTable reads { key = value, ... } on one line.
func (p *tomlParser) inlineTable(t *tomlTable) error {
	if err := p.expect(tokLBrace, true); err != nil {
		return err
	}
	for {
		if p.tok.kind == tokNewline {
			return syntaxErr(p.tok.line, "newline not allowed in inline table")
		}
		if p.tok.kind == tokRBrace {
			break
		}
		if p.tok.kind != tokString {
			return syntaxErr(p.tok.line, "expect a string")
		}
		if err := p.keyVal(t); err != nil {
			return err
		}
		if p.tok.kind == tokNewline {
			return syntaxErr(p.tok.line, "newline not allowed in inline table")
		}
		if p.tok.kind != tokComma {
			break
		}
		if err := p.next(true); err != nil {
			return err
		}
	}
	if err := p.expect(tokRBrace, true); err != nil {
		return err
	}
	t.readonly = true
	return nil
}

// header reads [a.b.c] or [[a.b.c]] and makes it the current table.
func (p *tomlParser) header() error {
	line := p.tok.line
	double := p.tok.pos+1 < len(p.src) && p.src[p.tok.pos+1] == '['
	if err := p.next(true); err != nil {
		return err
	}
	if double {
		if err := p.next(true); err != nil {
			return err
		}
	}
	var path []token
	for {
		if len(path) >= 10 {
			return syntaxErr(line, "table path is too deep; max allowed is 10.")
		}
		if p.tok.kind != tokString {
			return syntaxErr(line, "invalid or missing key")
		}
		if _, err := p.key(p.tok); err != nil {
			return err
		}
		path = append(path, p.tok)
		if err := p.next(true); err != nil {
			return err
		}
		if p.tok.kind == tokRBracket {
			break
		}
		if p.tok.kind != tokDot {
			return syntaxErr(line, "invalid key")
		}
		if err := p.next(true); err != nil {
			return err
		}
	}
	t := p.root
	for _, kt := range path[:len(path)-1] {
		k, _ := p.key(kt)
		switch {
		case t.table(k) != nil:
			t = t.table(k)
		case t.array(k) != nil:
			a := t.array(k)
			if a.kind != 't' || len(a.items) == 0 {
				return syntaxErr(kt.line, "key exists")
			}
			t = a.items[len(a.items)-1].tab
		case t.has(k):
			return syntaxErr(kt.line, "key exists")
		default:
			sub := &tomlTable{implicit: true}
			t.tables, t.tabKeys = append(t.tables, sub), append(t.tabKeys, k)
			t = sub
		}
	}
	last := path[len(path)-1]
	if !double {
		sub, err := p.addTable(t, last)
		if err != nil {
			return err
		}
		p.cur = sub
	} else {
		k, _ := p.key(last)
		a := t.array(k)
		if a == nil {
			var err error
			if a, err = p.addArray(t, last, 't'); err != nil {
				return err
			}
		}
		if a.kind != 't' {
			return syntaxErr(last.line, "array mismatch")
		}
		sub := &tomlTable{}
		a.items = append(a.items, tomlItem{tab: sub})
		p.cur = sub
	}
	if p.tok.kind != tokRBracket {
		return syntaxErr(p.tok.line, "expects ]")
	}
	if double {
		if !(p.tok.pos+1 < len(p.src) && p.src[p.tok.pos+1] == ']') {
			return syntaxErr(p.tok.line, "expects ]]")
		}
		if err := p.next(true); err != nil {
			return err
		}
	}
	if err := p.next(true); err != nil {
		return err
	}
	if p.tok.kind != tokNewline {
		return syntaxErr(p.tok.line, "extra chars after ] or ]]")
	}
	return nil
}
