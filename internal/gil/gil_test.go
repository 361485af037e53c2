package gil

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// manualIntervals lets a test decide when a waiter's interval has passed:
// each timed wait is announced on started, and ends when the test sends on
// its channel.
type manualIntervals struct {
	started chan chan time.Time
}

func withManualIntervals(g *GIL) *manualIntervals {
	m := &manualIntervals{started: make(chan chan time.Time, 16)}
	g.sleep = func(w *waiter, d time.Duration) bool { return m.sleep(w, d) }
	return m
}

// sleep is a waiter's sleep whose interval ends when the test says.
func (m *manualIntervals) sleep(w *waiter, _ time.Duration) bool {
	c := make(chan time.Time, 1)
	m.started <- c
	select {
	case <-w.wake:
		return true
	case <-c:
		return false
	}
}

// nextWait waits until some waiter starts an interval and returns the
// channel that ends it.
func (m *manualIntervals) nextWait(t *testing.T) chan time.Time {
	t.Helper()
	select {
	case c := <-m.started:
		return c
	case <-time.After(testkit.Bound):
		t.Fatal("no waiter started an interval")
		return nil
	}
}

func TestDropRequestOnlyAfterAFullInterval(t *testing.T) {
	g := New(DefaultInterval)
	m := withManualIntervals(g)
	holder, waiter := g.NewThread(Connection), g.NewThread(Connection)
	holder.take()

	took := make(chan struct{})
	go func() {
		waiter.take()
		close(took)
	}()
	first := m.nextWait(t)
	assert.False(t, holder.dropRequest.Load(), "no drop request while the first interval runs")

	first <- time.Now() // the interval passes with no switch
	m.nextWait(t)       // the waiter has set the request and waits again
	assert.True(t, holder.dropRequest.Load(), "a drop request after a whole interval")

	holder.drop(Done)
	<-took
	assert.True(t, waiter.Held())
	waiter.drop(Done)
}

func TestNoDropRequestIfTheLockChangedHandsDuringTheInterval(t *testing.T) {
	g := New(DefaultInterval)
	m := withManualIntervals(g)
	holder, first, second := g.NewThread(Connection), g.NewThread(Connection), g.NewThread(Connection)
	holder.take()
	tookFirst, tookSecond := make(chan struct{}), make(chan struct{})
	go func() {
		first.take()
		close(tookFirst)
	}()
	m.nextWait(t)
	go func() {
		second.take()
		close(tookSecond)
	}()
	secondWait := m.nextWait(t)

	holder.drop(Done) // wakes the oldest waiter, first, which takes the lock
	<-tookFirst
	secondWait <- time.Now() // second's interval ends, but the holder changed
	m.nextWait(t)            // second waits again
	assert.False(t, first.dropRequest.Load(), "first held the lock for less than an interval")

	first.drop(Done)
	<-tookSecond
	second.drop(Done)
}

func TestForcedSwitchingHandsTheLockToTheWaiter(t *testing.T) {
	g := New(DefaultInterval)
	m := withManualIntervals(g)
	holder, waiter := g.NewThread(Connection), g.NewThread(Connection)
	holder.take()

	var mu sync.Mutex
	var events []string
	log := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }

	release := make(chan struct{})
	go func() {
		waiter.take()
		log("waiter took")
		<-release
		log("waiter drops")
		waiter.drop(Done)
	}()
	m.nextWait(t) <- time.Now()
	m.nextWait(t)
	require.True(t, holder.dropRequest.Load())

	back := make(chan struct{})
	go func() {
		holder.Checkpoint() // drops, waits for the switch, takes back
		log("holder back")
		close(back)
	}()
	// The holder cannot be back before the waiter has dropped the lock.
	select {
	case <-back:
		t.Fatal("the holder took the lock back before the waiter had it")
	case <-waitFor(func() bool { mu.Lock(); defer mu.Unlock(); return len(events) == 1 }):
	}
	close(release)
	<-back
	assert.Equal(t, []string{"waiter took", "waiter drops", "holder back"}, events)
	assert.True(t, holder.Held())
	holder.drop(Done)
}

// waitFor returns a channel closed once cond holds; it checks at each
// scheduling turn and gives up after testkit.Bound.
func waitFor(cond func() bool) <-chan struct{} {
	c := make(chan struct{})
	go func() {
		deadline := time.Now().Add(testkit.Bound)
		for !cond() && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond)
		}
		close(c)
	}()
	return c
}

func TestNeitherSideStarves(t *testing.T) {
	// Two threads that never block, like two CPU-bound Python threads:
	// each must get turns, through drop requests alone.
	g := New(200 * time.Microsecond)
	var turns [2]atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 {
		th := g.NewThread(Connection)
		wg.Go(func() {
			th.take()
			defer th.drop(Done)
			last := g.Switches()
			for {
				select {
				case <-stop:
					return
				default:
				}
				th.Checkpoint()
				if s := g.Switches(); s != last {
					last = s
					turns[i].Add(1)
				}
			}
		})
	}
	<-waitFor(func() bool { return turns[0].Load() >= 5 && turns[1].Load() >= 5 })
	close(stop)
	wg.Wait()
	assert.GreaterOrEqual(t, turns[0].Load(), int64(5))
	assert.GreaterOrEqual(t, turns[1].Load(), int64(5))
}

func TestANilThreadRunsWhatItIsGiven(t *testing.T) {
	var g *GIL
	th := g.NewThread(Connection)
	assert.Nil(t, th)
	ran := 0
	th.Run(func() { ran++ })
	th.Syscall(func() { ran++ })
	th.AfterSend()
	th.LoopTurn(time.Hour)
	th.Spend(time.Hour)
	th.Checkpoint()
	assert.Equal(t, 2, ran)
	assert.False(t, th.Held())
	assert.Nil(t, FromContext(WithThread(context.Background(), th)))
}

func TestTheStepsTakeAndDropTheLockAsCPythonDoes(t *testing.T) {
	g := New(time.Millisecond)
	th, other := g.NewThread(Connection), g.NewThread(Worker)
	assert.Equal(t, "worker", other.Role().String())
	th.Run(func() {
		assert.True(t, th.Held(), "Run runs Python code with the lock")
		assert.Same(t, th, FromContext(WithThread(context.Background(), th)))
		th.Syscall(func() {
			assert.False(t, th.Held(), "a system call releases it")
			other.Run(func() {}) // another thread takes the free lock meanwhile
		})
		assert.True(t, th.Held(), "and takes it back after")
		th.LoopTurn(0)
		assert.True(t, th.Held(), "a turn of the loop ends with the lock held")
		assert.PanicsWithValue(t, "gil: Run by a thread that holds the lock", func() { th.Run(func() {}) })
	})
	assert.False(t, th.Held(), "Run drops the lock when its code returns")
	// th, the other thread, th again after the system call.
	assert.Equal(t, uint64(3), g.Switches())
	other.Run(func() {})
	th.AfterSend()
	assert.False(t, th.Held())
	assert.Equal(t, uint64(5), g.Switches(), "AfterSend takes the lock once more")
	assert.PanicsWithValue(t, "gil: a thread that does not hold the lock dropped it", func() { g.NewThread(Loop).drop(Done) })
	th.Syscall(func() {}) // without the lock, just a call
	assert.False(t, th.Held())
}

func TestRunDropsTheLockWhenItsCodePanics(t *testing.T) {
	g := New(time.Millisecond)
	th := g.NewThread(Loop)
	assert.Panics(t, func() { th.Run(func() { th.Syscall(func() { panic("boom") }) }) })
	assert.False(t, th.Held())
	g.NewThread(Worker).Run(func() {}) // the lock is free
}

// wakingSleeper sets up a lock with a manual clock and a wake-up delay of
// 100 µs: holder holds the lock and sleeper waits for it. afterWake
// announces each wake-up on waking and holds it until woke is closed.
type wakingSleeper struct {
	g               *GIL
	clock           atomic.Int64 // nanoseconds since the Unix epoch
	waking, woke    chan struct{}
	holder, sleeper *Thread
	sleeperTook     chan struct{}
}

func newWakingSleeper(t *testing.T) *wakingSleeper {
	w := &wakingSleeper{g: New(DefaultInterval), waking: make(chan struct{}), woke: make(chan struct{}), sleeperTook: make(chan struct{})}
	withManualIntervals(w.g)
	w.clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	w.g.now = func() time.Time { return time.Unix(0, w.clock.Load()) }
	w.g.SetWakeDelay(100 * time.Microsecond)
	w.g.afterWake = func(time.Time) {
		select {
		case w.waking <- struct{}{}:
			<-w.woke
		case <-w.woke: // the test no longer holds wake-ups
		}
	}
	w.holder, w.sleeper = w.g.NewThread(Connection), w.g.NewThread(Connection)
	w.holder.take()
	go func() {
		w.sleeper.take()
		close(w.sleeperTook)
	}()
	waitForWaiters(t, w.g)
	return w
}

// waitForWaiters returns once a goroutine waits for g's lock.
func waitForWaiters(t *testing.T, g *GIL) {
	t.Helper()
	for deadline := time.Now().Add(testkit.Bound); !g.hasWaiters(); {
		require.True(t, time.Now().Before(deadline), "no goroutine waited for the lock")
		time.Sleep(time.Millisecond)
	}
}

func TestAWokenThreadLetsARunningOneTakeTheLockFirst(t *testing.T) {
	w := newWakingSleeper(t)
	w.holder.drop(Done)
	<-w.waking // the sleeper is being woken: the lock is free meanwhile
	runner := w.g.NewThread(Connection)
	runner.take()
	assert.True(t, runner.Held(), "a thread already running takes the free lock first")
	close(w.woke)
	runner.drop(Done)
	<-w.sleeperTook
	assert.True(t, w.sleeper.Held(), "then the woken one")
	w.sleeper.drop(Done)
}

func TestAThreadThatHasWokenHasTheFreeLockBeforeOneThatComesLater(t *testing.T) {
	w := newWakingSleeper(t)
	w.holder.drop(Done) // as around a system call
	<-w.waking
	w.clock.Add(int64(100 * time.Microsecond)) // the sleeper's wake-up is over
	back := make(chan struct{})
	go func() {
		w.holder.take() // the system call returns
		close(back)
	}()
	waitForWaiters(t, w.g)
	select {
	case <-back:
		t.Fatal("the thread back from its system call took the lock its woken waiter has")
	default:
	}
	close(w.woke)
	<-w.sleeperTook
	assert.True(t, w.sleeper.Held())
	w.sleeper.drop(Done)
	<-back
	assert.True(t, w.holder.Held(), "then the other")
	w.holder.drop(Done)
}

func TestSpendYieldsToADropRequest(t *testing.T) {
	g := New(DefaultInterval)
	m := withManualIntervals(g)
	spender, waiter := g.NewThread(Connection), g.NewThread(Connection)
	spender.take()
	spent := make(chan struct{})
	go func() {
		spender.Spend(500 * time.Millisecond) // far longer than the hand-over takes
		spender.drop(Done)
		close(spent)
	}()
	took := make(chan struct{})
	go func() {
		waiter.take()
		close(took)
	}()
	m.nextWait(t) <- time.Now() // a whole interval with no switch: a drop request
	<-took
	select {
	case <-spent:
		t.Fatal("the spender finished before it dropped the lock")
	default:
	}
	assert.True(t, waiter.Held(), "the spender dropped the lock at a checkpoint")
	waiter.drop(Done)
	<-spent
}

// waiting returns how many threads wait for the lock.
func (g *GIL) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.waiters)
}

// hasWaiters reports whether a thread waits for the lock.
func (g *GIL) hasWaiters() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.waiters) > 0
}

func TestAWaiterSleepsUntilWokenOrUntilItsIntervalHasPassed(t *testing.T) {
	for name, sleep := range map[string]func(*waiter, time.Duration) bool{"thread": sleepThread, "timer": sleepOnTimer} {
		w := &waiter{wake: make(chan struct{})}
		assert.False(t, sleep(w, time.Millisecond), "%s: nobody woke it", name)

		w = &waiter{wake: make(chan struct{})}
		at := time.Now()
		w.wakeUp(at)
		assert.True(t, sleep(w, testkit.Bound), "%s: woken before it slept", name)
		assert.Equal(t, at, w.until)

		w = &waiter{wake: make(chan struct{})}
		woke := make(chan bool)
		go func() { woke <- sleep(w, testkit.Bound) }()
		w.wakeUp(at)
		assert.True(t, <-woke, "%s: woken while it slept", name)
	}
}
