// Package trailtest gives the tests of packages that record audit entries an in-memory
// trail.Recorder. Those packages cannot use the audit log itself in their tests: it
// imports accounts, and its own tests store entries in the database.
package trailtest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"hoctap/audit/trail"
)

// Recorder keeps the entries it is given, in order. It refuses an unknown action, as the
// audit log does, and, once Fail is called, every entry. It is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	list []trail.Entry
	fail error
}

// Record implements trail.Recorder.
func (r *Recorder) Record(_ context.Context, e trail.Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	if !e.Action.Valid() {
		return fmt.Errorf("trailtest: unknown action %q", e.Action)
	}
	r.list = append(r.list, e)
	return nil
}

// Fail makes every later Record return err.
func (r *Recorder) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

// Entries returns the recorded entries, oldest first.
func (r *Recorder) Entries() []trail.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.list)
}

// ByAction returns the recorded entries of one action, oldest first.
func (r *Recorder) ByAction(a trail.Action) []trail.Entry {
	var out []trail.Entry
	for _, e := range r.Entries() {
		if e.Action == a {
			out = append(out, e)
		}
	}
	return out
}

// Actions returns the action of every recorded entry, oldest first.
func (r *Recorder) Actions() []string {
	out := []string{}
	for _, e := range r.Entries() {
		out = append(out, string(e.Action))
	}
	return out
}
