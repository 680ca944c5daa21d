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
	// spare are the unused parts of regions given to the pool (Recycle),
	// which TakeDirty hands out before it maps new memory.
	spare  [][]byte
	reused int // bytes TakeDirty handed out of them
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

// Recycle gives the pool b, memory that Map mapped and its caller no
// longer uses (such as an index's slots it grew out of), for TakeDirty
// to hand out again: its pages are already in memory, where new ones
// would cost a page fault and the kernel's zeroing each (a table's index
// on huge pages is a quarter of an -A table's memory, and what it grew
// out of as much again). Free gives it back with the pool's regions.
func (p *Pool) Recycle(b []byte) {
	if len(b) == 0 {
		return
	}
	p.mapped = append(p.mapped, b)
	// Keep the pieces 8-byte aligned, as Take keeps what it hands out.
	if b = b[:len(b)&^7]; len(b) > 0 {
		p.spare = append(p.spare, b)
	}
}

// TakeDirty is Take for memory its caller overwrites before it reads
// it: it may hand out memory of a region given to Recycle, not zeroed.
func (p *Pool) TakeDirty(n int) []byte {
	for i, b := range p.spare {
		if len(b) >= n {
			p.spare[i] = b[n:]
			p.reused += n
			return b[:n:n]
		}
	}
	return p.Take(n)
}

// Reused returns the bytes TakeDirty handed out of recycled memory.
func (p *Pool) Reused() int { return p.reused }

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
