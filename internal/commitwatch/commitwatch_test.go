package commitwatch

import (
	"sync"
	"testing"
)

// TestCommitWakesWatchers: a channel from Watch is closed by the next
// commit and not before; the version counts commits, also concurrent ones.
func TestCommitWakesWatchers(t *testing.T) {
	var c Counter
	v, ch := c.Watch()
	if v != 0 {
		t.Fatalf("first version: got %d; want 0", v)
	}
	select {
	case <-ch:
		t.Fatal("the channel is closed before any commit")
	default:
	}
	c.Commit()
	select {
	case <-ch:
	default:
		t.Fatal("the channel is still open after a commit")
	}
	if v, ch2 := c.Watch(); v != 1 || ch2 == ch {
		t.Fatalf("after a commit: got version %d and the same channel %v; want 1 and a new channel", v, ch2 == ch)
	}
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() { c.Commit(); c.Watch() })
	}
	wg.Wait()
	if got := c.Version(); got != 101 {
		t.Errorf("after 101 commits: got %d; want 101", got)
	}
}
