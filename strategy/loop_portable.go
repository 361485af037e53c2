package strategy

import (
	"sync"
	"sync/atomic"

	"github.com/primetime-lab/primetime/internal/reactor"
)

// servePortable serves l with event loops that need no help from the
// system or the listener: one goroutine each, on the Listener and Conn
// interfaces alone. Each connection is read on a goroutine of its own, which
// hands its requests, one at a time, to the loop it was given (the one with
// the fewest open connections) and writes the answers. A loop handles what
// comes to it in the order it came: requests, whose tasks it runs with run
// (the inline executor runs them on the loop itself, while nothing else is
// handled), and the answers of the tasks that run elsewhere. In Python mode
// each loop is an interpreter thread that holds the lock while it handles
// events, releases it while it waits for them, and charges a turn of
// asyncio's machinery for each, as the reactor does.
func servePortable(l Listener, run Runner, threads []*Thread) error {
	lps := make([]*portableLoop, len(threads))
	var loops, readers sync.WaitGroup
	for i, th := range threads {
		lps[i] = &portableLoop{run: run, th: th, wake: make(chan struct{}, 1)}
		loops.Go(lps[i].loop)
	}
	defer func() {
		// Every reader waits for its answers, so once the readers are
		// gone no task is in flight and the loops can stop.
		readers.Wait()
		for _, lp := range lps {
			lp.post(portableEvent{stop: true})
		}
		loops.Wait()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		lp := lps[0]
		for _, other := range lps[1:] {
			if other.open.Load() < lp.open.Load() {
				lp = other
			}
		}
		lp.open.Add(1)
		readers.Go(func() {
			defer lp.open.Add(-1)
			lp.read(c)
		})
	}
}

// A portableLoop is one loop of servePortable.
type portableLoop struct {
	run  Runner
	th   *Thread
	open atomic.Int64 // connections given to it and not yet closed

	mu     sync.Mutex
	events []portableEvent // posted and not yet taken, oldest first
	wake   chan struct{}   // has a token when events may be waiting
}

// A portableEvent is a request for the loop, a task's answer that came
// back to it, or the end.
type portableEvent struct {
	req      Request
	r        *portableReader
	isAnswer bool
	answer   portableAnswer
	stop     bool
}

type portableAnswer struct {
	answer []byte
	err    error
}

// A portableReader is one connection's reader: it waits for one answer at
// a time.
type portableReader struct {
	lp    *portableLoop
	reply chan portableAnswer
	sub   reactor.Submission
	done  func([]byte, error) // r.answered, made once
}

// read reads c's requests, has the loop handle each, and writes the
// answers; then it closes c.
func (lp *portableLoop) read(c Conn) {
	defer c.Close()
	r := &portableReader{lp: lp, reply: make(chan portableAnswer, 1)}
	r.done = r.answered
	for {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		lp.post(portableEvent{req: req, r: r})
		a := <-r.reply
		if c.WriteAnswer(a.answer, a.err) != nil {
			return
		}
	}
}

// answered is the done of r's tasks: an answer given before Submit
// returned is the loop's to take; a later one comes back as an event.
func (r *portableReader) answered(answer []byte, err error) {
	if r.sub.Early(answer, err) {
		return
	}
	r.lp.post(portableEvent{r: r, isAnswer: true, answer: portableAnswer{answer, err}})
}

// post hands ev to the loop, from any goroutine.
func (lp *portableLoop) post(ev portableEvent) {
	lp.mu.Lock()
	lp.events = append(lp.events, ev)
	lp.mu.Unlock()
	select {
	case lp.wake <- struct{}{}:
	default:
	}
}

// loop handles events until it is told to stop.
func (lp *portableLoop) loop() {
	lp.th.Run(func() {
		var batch []portableEvent
		for {
			lp.th.Syscall(func() { batch = lp.take(batch[:0]) })
			for i, ev := range batch {
				batch[i] = portableEvent{}
				if ev.stop {
					return
				}
				lp.handle(ev)
			}
		}
	})
}

// take waits for events and appends them to batch.
func (lp *portableLoop) take(batch []portableEvent) []portableEvent {
	for {
		lp.mu.Lock()
		if len(lp.events) > 0 {
			batch = append(batch, lp.events...)
			clear(lp.events)
			lp.events = lp.events[:0]
			lp.mu.Unlock()
			return batch
		}
		lp.mu.Unlock()
		<-lp.wake
	}
}

// handle handles one event on the loop.
func (lp *portableLoop) handle(ev portableEvent) {
	lp.th.LoopTurn()
	r := ev.r
	if ev.isAnswer {
		r.reply <- ev.answer
		return
	}
	r.sub.Start()
	lp.run.Submit(lp.th.Context(ev.req.Context), ev.req.Task, ev.req.Payload, r.done)
	if answer, err, early := r.sub.Returned(); early {
		r.reply <- portableAnswer{answer, err}
	}
}
