package flow

// Layout says where the fields of one kind of stored flow record sit in
// the record's bytes, so that code can read them there without decoding
// the record first (the filter's raw path, filter.Filter.RawMatcher). A
// file layer fills one for each record layout it meets: in nfdump's V3
// records the element list fixes every field's offset, and a file holds
// few element lists.
type Layout struct {
	// Off holds the byte offset in the record of each number field that
	// is stored as its value, a little-endian number at least as wide as
	// the Go type of its Record field (Field.Value is that number cut to
	// its width), and 0 for such a field the record does not carry: it
	// reads as 0. Fields computed from others (FieldDuration, FieldFlows,
	// FieldIPv6) have no offset. For the address fields Off is where the
	// address starts, as Fam says.
	Off [NumFields]uint16
	// Fam says how each address field is stored at Off: 4 for an IPv4
	// address as a little-endian 32-bit number, 6 for an IPv6 address as
	// nfdump's two halves, each the big-endian number of 8 address bytes
	// stored little-endian; 0 for an address the record does not carry.
	Fam [NumFields]uint8
}
