package strategy

import (
	"sync"

	"github.com/primetime-lab/primetime/internal/gil"
)

// servePortableLoop reads every connection on a goroutine of its own and
// handles every request on one loop: one goroutine at a time holds the loop and
// handles its events, one after another, in the order they arrived. With
// the inline executor the loop runs each task itself; with any other it
// hands the task over and handles other events until the answer comes back
// to it, as an event of its own.
//
// The loop is not a goroutine of its own but a role that passes from
// goroutine to goroutine, as a baton: a reader whose request finds the loop
// free takes it and handles the request where it was read, so that a lone
// client's requests cross no goroutine hand-off; a request that finds the
// loop busy waits in the loop's queue, and the holder passes the loop on to
// it when it comes first. The order, and the fact that nothing else runs
// on the loop meanwhile, are those of one goroutine taking events from a
// queue.
func servePortableLoop(l Listener, run runner, lock *gil.GIL) error {
	_, inline := run.(inline)
	lp := &eventLoop{run: run, inline: inline, th: lock.NewThread()}
	var readers sync.WaitGroup
	// Every reader waits for its answers, and brings them back to the
	// loop itself, so once the readers are gone nothing holds the loop.
	defer readers.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		readers.Go(func() { lp.read(c) })
	}
}

// An eventLoop is the state of servePortableLoop's loop.
type eventLoop struct {
	run    runner
	inline bool
	// th is the loop's interpreter thread in Python mode: its holder
	// holds the lock except while the loop is free.
	th *gil.Thread

	mu     sync.Mutex
	busy   bool        // some goroutine holds the loop
	queue  []loopEvent // events waiting for the loop, oldest first
	events int         // index of the oldest event in queue
}

// A loopEvent is a request waiting for the loop, or an answer that came
// back from the executor.
type loopEvent struct {
	req      Request
	reply    chan<- loopAnswer // the reader's channel
	isAnswer bool
	answer   loopAnswer
}

// A loopAnswer is sent on a reader's channel: its answer, or, with baton
// set, the loop itself, passed on to the reader to handle its request.
type loopAnswer struct {
	answer []byte
	err    error
	baton  bool
}

// A loopReader reads one connection's requests, has the loop handle each,
// and writes the answers.
type loopReader struct {
	lp    *eventLoop
	reply chan loopAnswer // one request in flight at a time
}

// read reads c's requests, has the loop handle each, and writes the
// answers.
func (lp *eventLoop) read(c Conn) {
	defer c.Close()
	r := &loopReader{lp: lp, reply: make(chan loopAnswer, 1)}
	for {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		a := r.handle(req)
		if c.WriteAnswer(a.answer, a.err) != nil {
			return
		}
	}
}

// handle has the loop handle req, and returns its answer. The caller takes
// the loop at once if it is free, otherwise once it has been passed on to
// it.
func (r *loopReader) handle(req Request) loopAnswer {
	lp := r.lp
	if !lp.enter(loopEvent{req: req, reply: r.reply}) {
		<-r.reply // the baton
	}
	if lp.inline {
		answer, err := lp.run.run(gil.WithThread(req.Context, lp.th), req.Task, req.Payload)
		lp.next()
		return loopAnswer{answer: answer, err: err}
	}
	// The loop's part is done once the task is handed over: this
	// goroutine frees the loop, or passes it on, and then waits for the
	// executor itself, running no Python code and holding no lock.
	lp.next()
	r.take(lp.run.run(req.Context, req.Task, req.Payload))
	return <-r.reply
}

// take brings an answer back from the executor to the loop, which
// delivers it to the reader.
func (r *loopReader) take(answer []byte, err error) {
	lp := r.lp
	if lp.enter(loopEvent{reply: r.reply, isAnswer: true, answer: loopAnswer{answer: answer, err: err}}) {
		r.reply <- loopAnswer{answer: answer, err: err}
		lp.next()
	}
}

// enter takes the loop if it is free and reports whether it did; the
// caller then handles ev itself and calls next. Otherwise ev joins the
// queue.
func (lp *eventLoop) enter(ev loopEvent) bool {
	lp.mu.Lock()
	if lp.busy {
		lp.queue = append(lp.queue, ev)
		lp.mu.Unlock()
		return false
	}
	lp.busy = true
	lp.mu.Unlock()
	lp.th.Take()
	return true
}

// next is called by the loop's holder once it has handled an event: it
// delivers the answers at the head of the queue, passes the loop on to the
// first request in it, or, with the queue empty, frees the loop, releasing
// the lock in Python mode as asyncio does while it waits for events.
func (lp *eventLoop) next() {
	held := true
	for {
		lp.mu.Lock()
		if lp.events == len(lp.queue) {
			if held {
				// Drop the lock before freeing the loop, and look
				// again: an event may have come meanwhile.
				lp.mu.Unlock()
				lp.th.Drop()
				held = false
				continue
			}
			lp.busy = false
			lp.queue, lp.events = lp.queue[:0], 0
			lp.mu.Unlock()
			return
		}
		ev := lp.queue[lp.events]
		lp.queue[lp.events] = loopEvent{}
		lp.events++
		if lp.events >= 64 && 2*lp.events >= len(lp.queue) {
			// A queue that never empties would otherwise grow
			// without bound.
			n := copy(lp.queue, lp.queue[lp.events:])
			clear(lp.queue[n:])
			lp.queue, lp.events = lp.queue[:n], 0
		}
		lp.mu.Unlock()
		if !held {
			lp.th.Take()
			held = true
		}
		if !ev.isAnswer {
			ev.reply <- loopAnswer{baton: true}
			return
		}
		ev.reply <- ev.answer
	}
}
