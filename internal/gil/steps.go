package gil

import "time"

// The steps of Python code, each named after what CPython does there. They
// are the only way code outside this package takes and drops the lock, so
// what a sequence of takes and drops stands for is said once, here, and a
// recorder of the lock's events needs to look nowhere else.

// A Role says what an interpreter thread is for.
type Role uint8

// The roles of interpreter threads.
const (
	// Connection: a thread that serves one connection, as a threading
	// server's handler thread does.
	Connection Role = iota
	// Loop: an event loop's thread.
	Loop
	// Worker: a thread pool's worker.
	Worker
	// Feeder: a process pool's thread that carries tasks to its workers.
	Feeder
	// Manager: a process pool's thread that carries answers back.
	Manager
)

var roleNames = [...]string{"connection", "loop", "worker", "feeder", "manager"}

// String returns the role's name.
func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "thread"
}

// A Reason says why a thread dropped the lock.
type Reason uint8

// The reasons for a drop.
const (
	// Done: the code the thread ran returned.
	Done Reason = iota
	// Blocked: the thread made a system call, or waited for another
	// thread, which releases the lock.
	Blocked
	// DropRequest: another thread had waited a whole switch interval, and
	// the thread dropped the lock at a checkpoint.
	DropRequest
)

var reasonNames = [...]string{"done", "blocked", "drop request"}

// String returns the reason's name.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Run runs f as Python code on t: it takes the lock, runs f, whose
// checkpoints may yield the lock and whose blocking calls ([Thread.Syscall])
// release it, and drops it when f returns, as a thread does whose code
// ends or blocks. Run panics if t already holds the lock.
func (t *Thread) Run(f func()) {
	if t == nil {
		f()
		return
	}
	if t.held {
		panic("gil: Run by a thread that holds the lock")
	}
	t.take()
	defer func() {
		if t.held {
			t.drop(Done)
		}
	}()
	f()
}

// Syscall runs f outside the lock: a blocking call made by Python code, a
// system call or a wait for another thread, around which CPython releases
// the lock (Py_BEGIN_ALLOW_THREADS) and takes it back after
// (Py_END_ALLOW_THREADS). If t does not hold the lock, f just runs.
func (t *Thread) Syscall(f func()) {
	if t == nil || !t.held {
		f()
		return
	}
	t.drop(Blocked)
	defer t.take()
	f()
}

// AfterSend is what a thread that serves a connection does between the send
// of an answer and the recv of the next request: CPython takes the lock back
// when send returns and drops it again in recv, so every request costs such
// a thread a second wait for the lock. t must not hold the lock.
func (t *Thread) AfterSend() {
	if t == nil {
		return
	}
	t.take()
	t.drop(Blocked)
}

// LoopTurn is a turn of an event loop's machinery in Python, as asyncio
// takes one for each step of a request: its select releases the lock and
// takes it back, and its futures and callbacks spend cost with the lock held.
// t holds the lock.
func (t *Thread) LoopTurn(cost time.Duration) {
	if t == nil {
		return
	}
	t.drop(Blocked)
	t.take()
	t.Spend(cost)
}

// spendCheck is how often Spend checkpoints, as CPython's eval loop checks
// its drop request between bytecodes.
const spendCheck = 20 * time.Microsecond

// Spend runs on the CPU for d while t holds the lock, checkpointing as it
// goes: the cost of interpreter work that a Go server does not do, such as
// asyncio's machinery or a process pool's pickling. Without a lock (Go
// mode, a nil t) it does nothing.
func (t *Thread) Spend(d time.Duration) {
	if t == nil || d <= 0 {
		return
	}
	end := time.Now().Add(d)
	next := time.Now().Add(spendCheck)
	for now := time.Now(); now.Before(end); now = time.Now() {
		if now.After(next) {
			t.Checkpoint()
			next = now.Add(spendCheck)
		}
	}
}
