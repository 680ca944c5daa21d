package netflow

import (
	"fmt"
	"net/netip"
)

// Reasons a datagram or part of it is rejected. They are the keys of
// Counters.Errors.
const (
	ReasonShort           = "short datagram"
	ReasonVersion         = "unknown version"
	ReasonCount           = "bad record count"
	ReasonLength          = "bad length"
	ReasonFlowsetLength   = "bad flowset length"
	ReasonFlowsetID       = "invalid flowset id"
	ReasonTemplate        = "bad template"
	ReasonOptionTemplate  = "bad option template"
	ReasonUnknownTemplate = "unknown template"
	ReasonRecord          = "bad data record"
	ReasonZeroLength      = "zero-length record"
	ReasonTooManyExporter = "too many exporters"
	ReasonTooManyTemplate = "too many templates"
	ReasonTemplateMemory  = "template memory exhausted"
)

// Reasons returns the Reason constants, for a metrics layer that lists
// every reason from the start.
func Reasons() []string { return append([]string(nil), reasons...) }

// reasons lists the Reason constants.
var reasons = []string{ReasonShort, ReasonVersion, ReasonCount, ReasonLength, ReasonFlowsetLength, ReasonFlowsetID,
	ReasonTemplate, ReasonOptionTemplate, ReasonUnknownTemplate, ReasonRecord, ReasonZeroLength,
	ReasonTooManyExporter, ReasonTooManyTemplate, ReasonTemplateMemory}

// Error is a malformed datagram or part of one.
type Error struct {
	Version uint16     // protocol version of the datagram (0 if unreadable)
	From    netip.Addr // exporter address
	Domain  uint32     // engine tag, source id or observation domain
	Reason  string     // one of the Reason constants
	Detail  string     // what exactly was wrong
}

func (e *Error) Error() string {
	return fmt.Sprintf("netflow v%d from %s domain %d: %s: %s", e.Version, e.From, e.Domain, e.Reason, e.Detail)
}

type logKey struct {
	exp    exporterKey
	reason string
}

// fail counts an error by reason, logs it once per exporter and reason, and
// returns it.
func (d *Decoder) fail(e *exporter, from netip.Addr, version uint16, reason, format string, args ...any) error {
	err := &Error{Version: version, From: from, Reason: reason, Detail: fmt.Sprintf(format, args...)}
	key := exporterKey{version: version, addr: from}
	if e != nil {
		err.Version = e.key.version
		err.Domain = e.key.id
		key = e.key
	}
	d.counters.Errors[reason]++
	lk := logKey{key, reason}
	// The set of logged keys is bounded like the exporters: past the cap,
	// errors are still counted but no longer logged.
	if _, done := d.logged[lk]; !done && len(d.logged) < 16*d.opts.MaxExporters {
		d.logged[lk] = struct{}{}
		if d.opts.Logf != nil {
			d.opts.Logf("%s", err.Error())
		}
	}
	return err
}
