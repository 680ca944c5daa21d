package filter

import (
	"errors"
	"strings"
)

// maxStack is bison's YYMAXDEPTH: nfdump's parser stack holds 10000
// states, the first its start state, and pushing one more fails with
// "memory exhausted". The parser counts the states bison would hold, so a
// filter nested too deeply fails where nfdump's fails, with its message,
// and the recursion here stays bounded.
const maxStack = 10000

// bailout carries a compile error up through the recursive descent.
type bailout struct{ err error }

// parser is a recursive-descent parser for nfdump 1.7.1's grammar.y. It
// builds the filter tree as the grammar's actions do, in their order:
// bison reduces a term as soon as it is complete, and GCC evaluates the
// arguments of Connect_AND(NewBlock(a), NewBlock(b)) right to left, so b's
// block gets the lower number. Errors name the token bison would have in
// hand: the term's last token where bison reduces without reading ahead,
// the next token where it reads one first.
type parser struct {
	sc   *scanner
	opts *Options
	b    *builder

	tok  token // lookahead, valid when have is set
	have bool
	last token // the last token consumed
	sp   int   // states on bison's stack

	idents []string
	// flowLabels are the labels of the flowlabel primitives, in order.
	flowLabels []string
	count      bool
	labels     bool
	geo        bool
	ipstack    addr128 // nfdump's IPstack[0..1]: the last address parsed
	note       string  // printed before the next error (a failed lookup)
	maxDepth   int
	// familyBlind compares addresses as nfdump does, whatever their family.
	familyBlind bool
}

func (p *parser) bail(err error) { panic(bailout{err}) }

func (p *parser) peek() token {
	if !p.have {
		t, err := p.sc.next()
		if err != nil {
			p.bail(err)
		}
		p.tok, p.have = t, true
	}
	return p.tok
}

// push counts one more state on bison's stack, for token t (the one bison
// holds when the push fails).
func (p *parser) push(t token) {
	if p.sp+1 >= p.maxDepth {
		p.errAt(t, "memory exhausted")
	}
	p.sp++
}

// shift consumes the lookahead.
func (p *parser) shift() token {
	t := p.peek()
	p.push(t)
	p.have = false
	p.last = t
	return t
}

// pushEmpty counts the state of an empty rule (no direction qualifier, no
// comparator), which bison reduces after reading the next token.
func (p *parser) pushEmpty() { p.push(p.peek()) }

func (p *parser) errAt(t token, msg string) {
	p.bail(&Error{File: t.file, Line: t.line, Msg: msg, Token: t.text, Before: p.note})
}

// errLast reports a semantic error of a rule bison reduces without reading
// ahead: at the rule's last token.
func (p *parser) errLast(msg string) { p.errAt(p.last, msg) }

// errNext reports a semantic error of a rule bison reduces after reading
// the next token.
func (p *parser) errNext(msg string) { p.errAt(p.peek(), msg) }

func (p *parser) syntaxError() { p.errAt(p.peek(), "syntax error") }

// expect consumes a token of kind k, or fails with a syntax error.
func (p *parser) expect(k tokKind) token {
	if p.peek().kind != k {
		p.syntaxError()
	}
	return p.shift()
}

func (p *parser) expectChar(c byte) token {
	if !p.peek().is(c) {
		p.syntaxError()
	}
	return p.shift()
}

func (p *parser) expectString() string { return p.expect(tString).str() }

func (p *parser) expectNumber() uint64 { return p.expect(tNumber).num }

// parseProg parses the whole filter: nothing at all (which nfdump turns
// into a filter that matches nothing), or one expression.
func (p *parser) parseProg() uint32 {
	p.sp = 1
	if p.peek().kind == tEOF {
		return 0
	}
	e := p.parseOr()
	if p.peek().kind != tEOF {
		p.syntaxError()
	}
	return e
}

// parseOr parses expr OR expr ...: or binds loosest, left to right.
func (p *parser) parseOr() uint32 {
	left := p.parseAnd()
	for p.peek().kind == tOr {
		p.shift()
		right := p.parseAnd()
		p.sp -= 2
		left = p.b.connect(left, right, false)
	}
	return left
}

func (p *parser) parseAnd() uint32 {
	left := p.parseUnary()
	for p.peek().kind == tAnd {
		p.shift()
		right := p.parseUnary()
		p.sp -= 2
		left = p.b.connect(left, right, true)
	}
	return left
}

// parseUnary parses not, which binds tightest.
func (p *parser) parseUnary() uint32 {
	if p.peek().kind == tNot {
		p.shift()
		e := p.parseUnary()
		p.sp--
		return p.b.invert(e)
	}
	return p.parsePrimary()
}

// parsePrimary parses a parenthesised expression, with a flow label after
// it or before it, or a term.
func (p *parser) parsePrimary() uint32 {
	t := p.peek()
	switch {
	case t.is('('):
		p.shift()
		e := p.parseOr()
		p.expectChar(')')
		if !p.peek().is('%') {
			p.sp -= 2
			return e
		}
		p.shift()
		label := p.expectString()
		p.sp -= 4
		p.addLabel(e, label)
		return e
	case t.is('%'):
		p.shift()
		label := p.expectString()
		p.expectChar('(')
		e := p.parseOr()
		p.expectChar(')')
		p.sp -= 4
		p.addLabel(e, label)
		return e
	}
	base := p.sp
	e := p.parseTerm()
	p.sp = base + 1
	return e
}

func (p *parser) addLabel(e uint32, label string) {
	if len(label) > 16 {
		p.errLast("Error: Maximum 16 chars allowed for flowlabel")
	}
	p.b.addLabel(e, label)
	p.labels = true
}

// compile runs the parser and turns its panics into errors.
func (p *parser) compile() (start uint32, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			err = b.err
		}
	}()
	return p.parseProg(), nil
}

// Error is a filter that does not compile, with nfdump's message: the
// line (and the -f or @include file) the scanner stood at, the message
// and the token in hand. nfdump exits 254 on it.
type Error struct {
	File   string // "" for the command line
	Line   int
	Msg    string
	Token  string
	Before string // a line nfdump prints first, as for a host name that does not resolve
}

// Error returns nfdump's message, cut at 254 bytes as nfdump's buffer
// cuts it, with bytes that are not printable escaped (\xNN) so that a
// binary filter file cannot write control characters to a terminal.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString("File '" + e.File + "' line ")
	} else {
		b.WriteString("Line ")
	}
	b.WriteString(itoa(e.Line))
	b.WriteString(": " + e.Msg + " at '" + e.Token + "'")
	s := b.String()
	if len(s) > 254 {
		s = s[:254]
	}
	s = escape(s)
	if e.Before != "" {
		s = escape(e.Before) + "\n" + s
	}
	return s
}

// IncludeError is an @include nfdump could not follow: a missing file or
// too deep a nesting. nfdump exits 255 on it.
type IncludeError struct {
	Name string
	Msg  string
}

func (e *IncludeError) Error() string { return escape(e.Msg) }

// IsInclude reports whether err is an IncludeError.
func IsInclude(err error) bool {
	var ie *IncludeError
	return errors.As(err, &ie)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// Escape writes the bytes of s that are not printable ASCII as \xNN, as
// godump's messages about filters and filter files do.
func Escape(s string) string { return escape(s) }

// escape writes the bytes that are not printable ASCII as \xNN.
func escape(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c > '~' {
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
