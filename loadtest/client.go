package loadtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/primetime-lab/primetime/internal/wire"
)

// longState is the long request's progress.
type longState struct {
	sent  time.Time
	ended time.Time // when it was answered, or failed
	// answer is its answer, a result or an error answer (refused); err
	// says how it failed to get one, or why the answer is wrong.
	answer  string
	refused bool
	err     string
	event   int // the index of its answer's event
}

// client sends small requests until ctx ends.
func (r *generator) client(ctx context.Context, i int, t *tally) {
	c := r.newConn(r.smallAt)
	defer c.close()
	stop := context.AfterFunc(ctx, c.interrupt)
	defer stop()

	// In open loop, client i sends every Clients/Rate seconds, offset so
	// that the clients together send evenly.
	var period time.Duration
	var due time.Time
	var pace *time.Timer // reused, so that keeping the schedule allocates nothing
	defer func() {
		if pace != nil {
			pace.Stop()
		}
	}()
	if r.sc.Rate > 0 {
		period = time.Duration(float64(r.sc.Clients) / r.sc.Rate * float64(time.Second))
		due = r.start.Add(time.Duration(i) * period / time.Duration(r.sc.Clients))
	}
	retry := time.Duration(0)
	for ctx.Err() == nil {
		if err := c.dial(ctx); err != nil {
			if ctx.Err() != nil || r.ended(time.Now()) {
				return
			}
			t.fail(errConnect)
			r.firstError(errConnect, err)
			// Back off, so that a refusing server is not hammered.
			retry = min(max(2*retry, time.Millisecond), 100*time.Millisecond)
			sleepUntil(ctx, time.Now().Add(retry))
			continue
		}
		retry = 0
		sent := time.Now()
		if period > 0 {
			if wait := time.Until(due); wait > 0 {
				if pace == nil {
					pace = time.NewTimer(wait)
				} else {
					pace.Reset(wait)
				}
				select {
				case <-pace.C:
				case <-ctx.Done():
					return
				}
			}
			sent = due
			due = due.Add(period)
		}
		a, err := c.ask(r.smallAt.request)
		done := time.Now()
		if ctx.Err() != nil || r.ended(done) {
			// The run ended, perhaps a moment before its context says
			// so; the request in flight does not count.
			return
		}
		if err != nil {
			t.fail(kindOf(err))
			r.firstError(kindOf(err), err)
			continue
		}
		if a.Refused {
			t.fail(errAnswer)
			r.firstError(errAnswer, r.refusal(a))
		} else if err := r.smallCheck.check(a.Body); err != nil {
			// The answer is wrong, or answers another request: what
			// the connection says next cannot be trusted either.
			c.close()
			t.fail(errBadAnswer)
			r.firstError(errBadAnswer, err)
			continue
		} else {
			t.answer(r.phaseAt(), done.Sub(sent))
		}
		if a.Close && !r.sc.Reconnect {
			r.closed.Add(1)
		}
		if r.sc.Reconnect {
			c.close()
		}
	}
}

// refusal is the error of a refused small request: for a target, the
// request, which names its URL, then the status.
func (r *generator) refusal(a wire.Answer) error {
	if r.sc.Target != nil {
		return fmt.Errorf("%s: %s", r.sc.Small, a.Body)
	}
	return errors.New(string(a.Body))
}

// phaseAt returns the phase of an answer that arrived now.
func (r *generator) phaseAt() phase { return phase(r.phase.Load()) }

// longClient sends the long request once, LongAfter into the run.
func (r *generator) longClient(ctx context.Context) {
	if sleepUntil(ctx, r.start.Add(r.sc.LongAfter)) {
		return
	}
	c := r.newConn(r.longAt)
	defer c.close()
	stop := context.AfterFunc(ctx, c.interrupt)
	defer stop()
	// The phase changes before the request leaves, so that every small
	// answer that arrives after it counts as during.
	r.phase.Store(int32(during))
	sent := time.Now()
	r.mu.Lock()
	r.long.sent = sent
	r.events = append(r.events, Event{Time: sent, Kind: LongSent, Detail: r.sc.Long})
	r.mu.Unlock()

	var a wire.Answer
	err := c.dial(ctx)
	if err == nil {
		a, err = c.ask(r.longAt.request)
	}
	answer, refused := a.Body, a.Refused
	done := time.Now()
	if ctx.Err() != nil || r.ended(done) {
		return // unanswered when the run ended
	}
	r.phase.Store(int32(after))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.long.ended = done
	switch {
	case err != nil:
		r.long.err = err.Error()
		r.events = append(r.events, Event{Time: done, Kind: LongFailed, Latency: done.Sub(sent), Detail: r.long.err})
	case refused:
		r.long.answer, r.long.refused = string(answer), true
		r.events = append(r.events, Event{Time: done, Kind: LongFailed, Latency: done.Sub(sent), Detail: "refused: " + r.long.answer})
	default:
		r.long.answer, r.long.event = string(answer), len(r.events)
		r.events = append(r.events, Event{Time: done, Kind: LongAnswered, Latency: done.Sub(sent), Detail: r.long.answer})
	}
}

// checkLong checks the long request's answer, once the run is over: a
// wrong one makes the long request failed.
func (r *generator) checkLong() {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := &r.long
	if l.ended.IsZero() || l.err != "" || l.refused {
		return
	}
	if err := r.longCheck.check([]byte(l.answer)); err != nil {
		l.err = errKindNames[errBadAnswer] + ": " + err.Error()
		ev := &r.events[l.event]
		ev.Kind, ev.Detail = LongFailed, l.err
	}
}
