package filter

// CompileFamilyBlind compiles src with nfdump 1.7.1's address comparison
// (IPv4 as ::a.b.c.d, whatever the flow's family), for the differential
// tests.
func CompileFamilyBlind(src string, opts Options) (*Filter, error) { return compile(src, opts, true) }
