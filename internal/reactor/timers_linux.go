package reactor

import (
	"container/heap"
	"time"
)

// An instant is a time on a loop's clock: nanoseconds since the loop
// began, and 0 for none. It takes eight bytes where a time.Time takes
// twenty-four, for each of a connection's deadlines.
type instant int64

// clock returns the loop's time now, never 0.
func (lp *loop) clock() instant { return instant(time.Since(lp.epoch)) + 1 }

// add returns the instant d after t.
func (t instant) add(d time.Duration) instant { return t + instant(d) }

// A loop's timers are one heap of connections ordered by when their timer
// fires. A connection has one timer for all of its deadlines, which are
// moved lazily: the timer fires at the earliest deadline the connection
// had, and is set again for the next one still ahead.
type timerHeap []*conn

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].timerAt < h[j].timerAt }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *timerHeap) Push(x any) {
	c := x.(*conn)
	c.heapIdx = len(*h)
	*h = append(*h, c)
}
func (h *timerHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	c.heapIdx = -1
	return c
}

// arm makes sure c's timer fires by at.
func (h *timerHeap) arm(c *conn, at instant) {
	switch {
	case c.heapIdx < 0:
		c.timerAt = at
		heap.Push(h, c)
	case at < c.timerAt:
		c.timerAt = at
		heap.Fix(h, c.heapIdx)
	}
}

// remove takes c's timer out.
func (h *timerHeap) remove(c *conn) {
	if c.heapIdx >= 0 {
		heap.Remove(h, c.heapIdx)
	}
}

// due pops the connection whose timer fires first, if it is due by now.
func (h *timerHeap) due(now instant) *conn {
	if len(*h) == 0 || (*h)[0].timerAt > now {
		return nil
	}
	return heap.Pop(h).(*conn)
}

// timeout returns how long after now the first timer fires, in whole
// milliseconds rounded up, for epoll_wait: -1 with no timer.
func (h timerHeap) timeout(now instant) int {
	if len(h) == 0 {
		return -1
	}
	wait := time.Duration(h[0].timerAt - now)
	return int(min(max((wait+time.Millisecond-1)/time.Millisecond, 0), time.Hour/time.Millisecond))
}
