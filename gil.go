package primetime

// A GILReleaser is a [Task] that runs without Python mode's interpreter
// lock, as a C extension does between Py_BEGIN_ALLOW_THREADS and
// Py_END_ALLOW_THREADS (hashlib over a large buffer, zlib, numpy): in
// Python mode the thread that runs it releases the lock for the task and
// takes it back after, and the task's checkpoints do not yield it. Make one
// with [ReleasingGIL]. In Go mode, and in worker processes, it runs as any
// task does.
type GILReleaser interface {
	Task
	// ReleasesGIL marks the task; it does nothing.
	ReleasesGIL()
}

// ReleasingGIL returns t as a [GILReleaser]: a task of one's own that
// releases the lock, as [SHA256] does.
func ReleasingGIL(t Task) Task { return releasing{t} }

type releasing struct{ Task }

func (releasing) ReleasesGIL() {}
