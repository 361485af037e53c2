package lab

// A Preset is a section of the lecture: a server, and the lecture's claim
// about it in one sentence.
type Preset struct {
	ID    string   `json:"id"`
	Title string   `json:"title"`
	Run   Settings `json:"run"`
	Claim string   `json:"claim"`
}

// Presets are the lecture's sections, in its order, then Go's answer.
// Python mode stands for Python where CPython cannot serve the shape; the
// page lets a section run under CPython where it can.
var Presets = []Preset{
	{"serial", "A single thread", Settings{Strategy: "serial", Runtime: RuntimePython, GIL: "5ms"},
		"One request at a time: while the long one runs, nobody else is served."},
	{"threads", "Threads", Settings{Strategy: "perconn", Runtime: RuntimePython, GIL: "5ms"},
		"A thread per client, but the GIL lets one run: the CPU-bound thread takes the lock back at every switch interval, and the short requests starve."},
	{"switch-2ms", "Switch interval 2 ms", Settings{Strategy: "perconn", Runtime: RuntimePython, GIL: "2ms"},
		"A shorter switch interval hands the lock over more often: a little more of the flow survives, at the cost of more switches."},
	{"switch-1s", "Switch interval 1 s", Settings{Strategy: "perconn", Runtime: RuntimePython, GIL: "1s"},
		"A long switch interval lets the CPU-bound thread keep the lock: the short requests stop."},
	{"procpool", "A process pool", Settings{Strategy: "procpool:2", Runtime: RuntimePython, GIL: "5ms"},
		"The CPU-bound work goes to other processes, each with its own GIL: the server's threads keep answering."},
	{"asyncio", "asyncio", Settings{Strategy: "loop", Runtime: RuntimePython, GIL: "5ms"},
		"One event loop: a CPU-bound callback blocks it, and every connection waits."},
	{"asyncio-threads", "asyncio with a thread pool", Settings{Strategy: "loop+goroutines:4", Runtime: RuntimePython, GIL: "5ms"},
		"The loop hands the work to threads, but they share the GIL with it: the loop still starves."},
	{"asyncio-procs", "asyncio with a process pool", Settings{Strategy: "loop+procs:2", Runtime: RuntimePython, GIL: "5ms"},
		"The loop hands the work to processes: it stays free to answer."},
	{"go", "Go's answer", Settings{Strategy: "perconn", Runtime: RuntimeGo},
		"A goroutine per connection and no GIL: the short requests go on, on the other core."},
}

// PresetByID returns the preset of id, and false if there is none.
func PresetByID(id string) (Preset, bool) {
	for _, p := range Presets {
		if p.ID == id {
			return p, true
		}
	}
	return Preset{}, false
}
