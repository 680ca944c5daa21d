package flowfile

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSetReaderGoesOnPastBadFiles(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 12))
	a, b := randomFile(rng, 100), randomFile(rng, 20000)
	a.exporters, a.samplers, a.stats = nil, nil, nil
	b.exporters, b.samplers, b.stats = nil, nil, nil
	good1 := filepath.Join(dir, "nfcapd.202611242140")
	good2 := filepath.Join(dir, "nfcapd.202611242145")
	writeTestFile(t, good1, WriteOptions{Compression: LZ4, Ident: "one"}, &a)
	writeTestFile(t, good2, WriteOptions{Compression: BZ2, Ident: "two"}, &b)

	passwd := filepath.Join(dir, "passwd")
	require.NoError(t, os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/bash\n"+string(make([]byte, 64))), 0o644))
	data, err := os.ReadFile(good2)
	require.NoError(t, err)
	offs := blockOffsets(t, data)
	truncated := filepath.Join(dir, "truncated")
	require.NoError(t, os.WriteFile(truncated, data[:offs[1]+30], 0o644))
	inBlock0 := flowsPerBlock(t, data)[0]

	var errs []error
	s := NewSetReader([]string{good1, passwd, filepath.Join(dir, "missing"), truncated, good2},
		ReadOptions{}, func(err error) { errs = append(errs, err) })
	defer s.Close()
	var idents []string
	n := 0
	for s.Next() {
		if s.Reader().Kind() == KindFlow {
			n++
			if id, _ := s.Reader().Ident(); len(idents) == 0 || idents[len(idents)-1] != id {
				idents = append(idents, id)
			}
		}
	}
	assert.Equal(t, len(a.flows)+inBlock0+len(b.flows), n)
	assert.Equal(t, []string{"one", "", "two"}, idents, "the truncated file lost its appendix")
	require.Len(t, errs, 3)
	assert.Contains(t, errs[0].Error(), passwd)
	assert.Contains(t, errs[0].Error(), "bad magic: 0x6F72")
	assert.ErrorIs(t, errs[1], os.ErrNotExist)
	assert.Contains(t, errs[2].Error(), truncated)
	assert.Contains(t, errs[2].Error(), "truncated")
	assert.Equal(t, 3, s.Failed())
}
