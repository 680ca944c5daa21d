// Package flowfile reads and writes nfdump 1.7 flow files (layout version 2
// with V3 records), the files nfcapd writes as nfcapd.YYYYMMDDhhmm, so that
// the real nfdump reads ours and we read theirs.
//
// A file is a 40-byte header, data blocks of packed records, and an
// appendix block with the ident and the statistics record. Each block's
// payload is compressed on its own with the file's method (none, LZO, BZ2,
// LZ4 or ZSTD). All integers are little-endian, as nfdump writes them on
// amd64. The layout is described in shared/notes/nffile-v2.md.
//
// Reading decompresses blocks on all cores while records are handed out in
// file order, decoded into one reused flow.Record. The same workers select
// the flows (ReadOptions.Select: nfdump's -t window and filter), count
// them, and stop at a limit (-c), so that every job of a reader keeps all
// cores busy with a filter too. A selector that can (RawSelector, as the
// filter) tests the records on their bytes, and only those that pass are
// decoded. The workers decompress LZ4 and LZO blocks from the file's
// mapping where it can be mapped, which spares the copy from the page
// cache (a tenth of -o null's CPU time; mapFile). Writing compresses blocks
// in the background and keeps records in the order they were written.
package flowfile
