//go:build !linux

package gil

// sleepThread is the portable sleep elsewhere.
var sleepThread = sleepOnTimer

func wakeThread(*uint32) {}
