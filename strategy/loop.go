package strategy

import (
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/reactor"
)

// loops is the LoopScheduler of Loop (one loop) and Loops (n of them).
type loops struct {
	n    int  // how many, 0 for one per CPU; ignored for Loop
	many bool // Loops rather than Loop, for the text form
}

func (s loops) String() string {
	if !s.many {
		return partForm(loopName, 0)
	}
	return partForm(loopsName, s.n)
}

func (s loops) describe() Part {
	if !s.many {
		return Part{Name: loopName}
	}
	return Part{Name: loopsName, Size: s.n}
}

// count returns how many loops to run.
func (s loops) count() int {
	if !s.many {
		return 1
	}
	return perCPU(s.n)
}

// ServeLoop implements [LoopScheduler]: with the epoll reactor, which owns
// every connection's socket, where the system has it and l can hand its
// sockets over (package server's listener can); with the portable loop
// otherwise.
func (s loops) ServeLoop(l Listener, lp LoopEnv) error {
	threads := make([]*Thread, s.count())
	for i := range threads {
		threads[i] = lp.LoopThread()
	}
	rl, ok := l.(reactor.Listener)
	if !ok || !reactor.Supported {
		return servePortable(l, lp.Runner, threads)
	}
	cfg := reactor.Config{Submit: lp.Runner.Submit, Threads: make([]*gil.Thread, len(threads)), Recorder: lp.Recorder}
	for i, th := range threads {
		cfg.Threads[i] = th.gil()
	}
	if lp.Python != nil {
		cfg.TurnCost = lp.Python.Costs().LoopRequest
	}
	return reactor.Serve(rl, cfg)
}
