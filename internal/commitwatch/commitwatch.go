// Package commitwatch counts the commits of a store and tells those who
// wait of each: the storage.Versioner and storage.Watcher of the backends
// whose every commit goes through one Store value (memstore, boltstore).
package commitwatch

import (
	"sync"
	"sync/atomic"
)

// Counter counts commits. The zero value is ready, at version 0. It is safe
// for concurrent use.
type Counter struct {
	v  atomic.Uint64
	mu sync.Mutex
	ch chan struct{} // closed at the next commit; made by Watch
}

// Version returns the number of commits so far.
func (c *Counter) Version() uint64 { return c.v.Load() }

// Commit counts one commit, once it is visible to new transactions, and
// wakes whoever waits on a channel Watch returned.
func (c *Counter) Commit() {
	c.mu.Lock()
	c.v.Add(1)
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
	c.mu.Unlock()
}

// Watch returns the number of commits so far and a channel closed at the
// next commit.
func (c *Counter) Watch() (uint64, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.v.Load(), c.ch
}
