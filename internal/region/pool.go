package region

// Pool hands out memory carved from regions it maps (MapSmall: small
// pages, which cost a table less than huge ones on the benchmark machine)
// and gives them all back at once (Free):
// for tables whose arrays grow in chunks that never move. The memory must
// never hold Go pointers. Regions grow by doubling from MinPool up to
// MaxPool bytes, so that a small table maps little and a big one few
// regions. The zero Pool is ready to use.
type Pool struct {
	mapped [][]byte
	cur    []byte // what is left of the last region
	total  int    // bytes mapped so far
}

// The sizes of a Pool's regions: the first, and the most any grows to.
const (
	MinPool = 4 << 20
	MaxPool = 64 << 20
)

// Take returns n zeroed bytes, aligned to 8 bytes when n is a multiple of
// 8 as every size taken before.
func (p *Pool) Take(n int) []byte {
	if len(p.cur) < n {
		size := max(n, min(max(p.total, MinPool), MaxPool))
		size = (size + HugePage - 1) &^ (HugePage - 1)
		b, mapped := MapSmall(size)
		if mapped {
			p.mapped = append(p.mapped, b)
		}
		p.cur, p.total = b, p.total+size
	}
	b := p.cur[:n:n]
	p.cur = p.cur[n:]
	return b
}

// Free gives back every region the pool mapped; the memory it handed out
// must not be used afterwards. The pool is empty and usable again.
func (p *Pool) Free() {
	for _, b := range p.mapped {
		Free(b)
	}
	*p = Pool{}
}

// Memory is what a hash table keeps outside Go's heap: a Pool for its
// rows and the regions of its indexes' slots (slotindex.GrowMapped), one
// for each index (a table in parts has one per part), given back
// together. A table allocates it apart from itself, so that a
// runtime.AddCleanup of the table can free it.
type Memory struct {
	Pool
	Index [][]byte
}

// NewMemory returns a Memory for a table of indexes indexes.
func NewMemory(indexes int) *Memory { return &Memory{Index: make([][]byte, indexes)} }

// Free gives back the pool's regions and the indexes'.
func (m *Memory) Free() {
	m.Pool.Free()
	for i, b := range m.Index {
		Free(b)
		m.Index[i] = nil
	}
}
