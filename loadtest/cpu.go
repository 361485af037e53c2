package loadtest

import (
	"fmt"
	"slices"
	"time"
)

// cpuMeter measures the CPU the generator and the server use, in cores,
// between one reading and the next.
type cpuMeter struct {
	serverPid      int
	self, server   time.Duration
	at             time.Time
	serverReadable bool
}

func newCPUMeter(serverPid int) *cpuMeter {
	m := &cpuMeter{serverPid: serverPid, at: time.Now()}
	m.self, _ = selfCPU()
	if serverPid > 0 {
		var err error
		m.server, err = processCPU(serverPid)
		m.serverReadable = err == nil
	}
	return m
}

// read returns the cores each used since the last reading; server is -1
// if it cannot be read.
func (m *cpuMeter) read() (generator, server float64) {
	now := time.Now()
	wall := now.Sub(m.at).Seconds()
	m.at = now
	server = -1
	if wall <= 0 {
		return 0, server
	}
	if self, err := selfCPU(); err == nil {
		generator = (self - m.self).Seconds() / wall
		m.self = self
	}
	if m.serverReadable {
		if s, err := processCPU(m.serverPid); err == nil {
			server = (s - m.server).Seconds() / wall
			m.server = s
		}
	}
	return generator, server
}

// boundShare is how much of the machine's CPU the generator and the server
// must use together, and the generator at least as much as the server, for
// the generator to be called the limit.
const boundShare = 0.9

// generatorBound reports whether the load generator, rather than the
// server, may have set the pace of the intervals given, by their median
// use of CPU (in cores; a server's negative use is unknown): the machine's
// cpus were nearly all busy and the generator took at least as much as
// the server, or, with the server unknown, the generator alone used
// nearly all of them. It returns why, for the warning.
func generatorBound(generator, server []float64, cpus int) (bool, string) {
	if len(generator) == 0 {
		return false, ""
	}
	gen := median(generator)
	known := slices.IndexFunc(server, func(s float64) bool { return s < 0 }) < 0 && len(server) == len(generator)
	if !known {
		if gen >= boundShare*float64(cpus) {
			return true, fmt.Sprintf("the load generator used %.1f of %d CPUs", gen, cpus)
		}
		return false, ""
	}
	srv := median(server)
	if gen+srv >= boundShare*float64(cpus) && gen >= srv {
		return true, fmt.Sprintf("the load generator used %.1f of %d CPUs, the server %.1f", gen, cpus, srv)
	}
	return false, ""
}
