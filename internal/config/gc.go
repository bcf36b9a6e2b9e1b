package config

import (
	"os"
	"runtime/debug"
)

// Garbage collector defaults, unless GOGC or GOMEMLIMIT say otherwise (the Go runtime reads
// both; an operator who sets them is obeyed).
//
// The service keeps little (about 10 MB live) and allocates fast: some 40 KB per claim, so at
// 5,000 claims a second Go's default (GOGC=100, a collection whenever the heap doubles) ran
// about 30 collections a second, and collecting took 13 to 15% of the service's CPU. With
// GOGC=400 a collection waits until four times the live heap is allocated anew, a quarter as
// often: collecting drops to 3 to 4% of the CPU. (Two pairs of otherwise equal load runs gave
// 212 and 268 µs of service CPU per claim before, 144 and 169 after: more than the collector's
// share alone explains, so part of that is the runs' noise.)
//
// The memory limit keeps the bulk paths (a 1,000,000-row import or export holds tens of MB
// live) within their memory targets: near the limit the collector runs as often as it must,
// whatever GOGC says. `claimdesk import` of 1,000,000 rows into PostgreSQL peaked at 115 MiB of RSS with Go's
// defaults, 147 MiB with these (203 MiB with a 192 MiB limit; the target is 200).
const (
	// DefaultGCPercent is GOGC unless the environment sets it (the load benchmark's own
	// load generator always uses it).
	DefaultGCPercent   = 400
	defaultMemoryLimit = 128 << 20
)

// TuneGC applies the defaults the environment does not override.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
