// Package keylock hands out one mutex per key, for work that must be serialised per
// object (one attempt, say) without serialising everything.
package keylock

import "sync"

// Map is a set of mutexes by key. Entries exist only while someone holds or waits for
// them, so the map stays as small as the number of keys in use. The zero value is not
// ready; use New. A Map is safe for concurrent use.
type Map struct {
	mu    sync.Mutex
	locks map[string]*entry
}

type entry struct {
	mu    sync.Mutex
	users int // holders and waiters
}

// New returns an empty Map.
func New() *Map { return &Map{locks: map[string]*entry{}} }

// Lock blocks until the caller holds key's mutex and returns the function that releases
// it, which must be called exactly once.
func (m *Map) Lock(key string) (unlock func()) {
	m.mu.Lock()
	e := m.locks[key]
	if e == nil {
		e = &entry{}
		m.locks[key] = e
	}
	e.users++
	m.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		m.mu.Lock()
		if e.users--; e.users == 0 {
			delete(m.locks, key)
		}
		m.mu.Unlock()
	}
}

// Len returns the number of keys held or waited for.
func (m *Map) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.locks)
}
