// Package clock defines the time source that services take so that deadlines, expiries and
// rate-limit windows are testable without sleeping.
package clock

import (
	"sync"
	"time"
)

// Clock returns the current time. Services store and compare times in UTC.
type Clock func() time.Time

// System returns the real time in UTC.
func System() time.Time { return time.Now().UTC() }

// Fixed is a settable clock for tests, safe for concurrent use.
type Fixed struct {
	mu sync.Mutex
	t  time.Time
}

// NewFixed returns a Fixed clock showing t.
func NewFixed(t time.Time) *Fixed { return &Fixed{t: t.UTC()} }

// Now returns the fixed time.
func (f *Fixed) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Advance moves the fixed time forward by d.
func (f *Fixed) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}
