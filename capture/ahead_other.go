//go:build !linux

package capture

// waker waits on aheadReader.released through a channel where there is
// no futex.
type waker struct{ ch chan struct{} }

func (a *aheadReader) initWaker() { a.ch = make(chan struct{}, 1) }

// sleep waits for a wake-up.
func (a *aheadReader) sleep(uint32) bool {
	<-a.ch
	return true
}

// wake wakes the goroutine if it sleeps.
func (a *aheadReader) wake() {
	select {
	case a.ch <- struct{}{}:
	default:
	}
}
