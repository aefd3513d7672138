package reports

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

// Why a cache: on embedded FerretDB every find decodes the whole collection, and reading
// 40,000 user documents or 30,000 enrolments takes seconds (BenchmarkTargetStatusProvince),
// so a province-wide roll-up cannot read them per request and answer in under a second.
// Reports therefore keeps two kinds of read-only snapshots in memory: the directory (every
// unit and every active user) and, per target metric, who is done. A snapshot is fresh for
// Config.CacheTTL (30 s by default, like the accounts session cache); after that it is
// still served, up to Config.MaxStale (10 min), while one background load replaces it.
// Loads are shared: concurrent requests wait for one load instead of each starting their
// own. Every figure carries the time of the data it was computed from (AsOf).
//
// The directory is also kept up to date change by change: UserChanged and UnitChanged
// re-read one document (a find by _id, which FerretDB answers without a scan) and apply it
// to a copy of the snapshot under the entry's lock (copy-on-write: a roll-up in progress
// keeps the snapshot it started with). A full load that was running while such an edit was
// applied replays the edit on what it read before it is stored, so a load that read a
// document before its change cannot undo the edit. Invalidate (bulk changes) marks
// snapshots stale: they are served while one background load replaces them.

// maxMetricEntries bounds the per-metric snapshots kept (one per target metric, course,
// quiz and minutes).
const maxMetricEntries = 64

// entry is one cached value with the time it was loaded. Concurrent callers that find no
// usable value share one foreground load (loading), and its error too: while the database
// is down, a queue of requests fails together instead of each waiting out its own timeout.
type entry[T any] struct {
	mu         sync.Mutex
	at         time.Time
	val        T
	ok         bool
	stale      bool   // marked by Invalidate: serve while a background load replaces it
	marks      uint64 // how many times Invalidate marked it
	refreshing bool
	loading    *load[T]
	inflight   int       // loads running, foreground and background
	seq        uint64    // edits applied so far
	edits      []edit[T] // edits applied while loads were running, for them to replay
}

// edit is one change applied to a snapshot; apply returns a new value and never changes
// its argument (readers may hold it).
type edit[T any] struct {
	seq   uint64
	apply func(T) T
}

// load is one foreground load that callers wait on.
type load[T any] struct {
	done chan struct{}
	val  T
	at   time.Time
	err  error
}

// loadStart is what a load remembers of the entry when it begins.
type loadStart struct {
	at    time.Time
	seq   uint64
	marks uint64
}

// begin registers a load starting at t; e.mu is held.
func (e *entry[T]) begin(t time.Time) loadStart {
	e.inflight++
	return loadStart{at: t, seq: e.seq, marks: e.marks}
}

// finish ends a load begun with st; e.mu is held. A successful load gets every edit
// applied since it began replayed on it, and is stored unless the entry already holds
// newer data; it clears the stale mark unless Invalidate marked the entry again since the
// load began. It returns the loaded value with the edits.
func (e *entry[T]) finish(st loadStart, v T, err error) T {
	e.inflight--
	if err == nil {
		for _, ed := range e.edits {
			if ed.seq > st.seq {
				v = ed.apply(v)
			}
		}
		if !e.ok || !st.at.Before(e.at) {
			e.val, e.at, e.ok = v, st.at, true
			if e.marks == st.marks {
				e.stale = false
			}
		}
	}
	if e.inflight == 0 {
		e.edits = nil
	}
	return v
}

// update applies an edit to the stored value (if any) and keeps it for the loads running.
func (e *entry[T]) update(apply func(T) T) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	if e.ok {
		e.val = apply(e.val)
	}
	if e.inflight > 0 {
		e.edits = append(e.edits, edit[T]{seq: e.seq, apply: apply})
	}
}

// mark marks the stored value stale (Invalidate).
func (e *entry[T]) mark() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.marks++
	e.stale = true
}

// get returns the cached value when it is younger than ttl and not marked stale. A value
// older than ttl (or marked stale) but younger than maxStale is still returned, and one
// background load replaces it: on FerretDB a province's directory takes seconds to read,
// and nobody should wait for that every ttl. Anything older, or no value at all, is loaded
// in the foreground, once for all callers.
func (e *entry[T]) get(ctx context.Context, now func() time.Time, ttl, maxStale time.Duration, fetch func(context.Context) (T, error)) (T, time.Time, error) {
	e.mu.Lock()
	t := now()
	if e.ok && ttl > 0 && !t.Before(e.at) {
		age := t.Sub(e.at)
		if age < ttl && !e.stale {
			defer e.mu.Unlock()
			return e.val, e.at, nil
		}
		if age < maxStale {
			defer e.mu.Unlock()
			if !e.refreshing {
				e.refreshing = true
				go e.refresh(context.WithoutCancel(ctx), e.begin(t), fetch)
			}
			return e.val, e.at, nil
		}
	}
	l := e.loading
	if l == nil {
		l = &load[T]{done: make(chan struct{}), at: t}
		e.loading = l
		st := e.begin(t)
		e.mu.Unlock()
		finished := false
		defer func() {
			if !finished { // fetch panicked: release the waiters; the panic goes on up
				l.err = errors.New("reports: loading the cache failed")
				e.mu.Lock()
				var zero T
				e.finish(st, zero, l.err)
				e.loading = nil
				e.mu.Unlock()
				close(l.done)
			}
		}()
		v, err := fetch(ctx)
		finished = true
		e.mu.Lock()
		l.val, l.err = e.finish(st, v, err), err
		e.loading = nil
		e.mu.Unlock()
		close(l.done)
	} else {
		e.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			var zero T
			return zero, time.Time{}, ctx.Err()
		}
	}
	if l.err != nil {
		var zero T
		return zero, time.Time{}, l.err
	}
	return l.val, l.at, nil
}

// refreshTimeout bounds a background load.
const refreshTimeout = 2 * time.Minute

// refresh loads a value in the background and stores it (see finish). A failed refresh
// keeps the old value; the next caller past ttl tries again.
func (e *entry[T]) refresh(ctx context.Context, st loadStart, fetch func(context.Context) (T, error)) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	v, err := fetch(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.refreshing = false
	e.finish(st, v, err)
}

// directory is a snapshot of the organisation: every unit and every active user. It is
// never changed once stored; edits make a new one.
type directory struct {
	units []accounts.Unit // parents before children (by depth, then name)
	byID  map[string]accounts.Unit
	users []accounts.User // active users only, with the fields of ListActiveStaff
	at    time.Time       // when it was read
}

// metricData is who is done under one target metric, with each learner's progress.
type metricData struct {
	done     map[string]bool
	progress map[string]float64
}

type cache struct {
	ttl      time.Duration
	maxStale time.Duration
	mu       sync.Mutex // guards metrics and order
	dir      entry[*directory]
	metrics  map[string]*entry[metricData]
	order    []string // metric keys, oldest first, for eviction
	// edits serialises UserChanged and UnitChanged, read and apply together, so that two
	// changes of one document cannot be applied in the opposite order to their reads.
	edits sync.Mutex
}

func newCache(ttl, maxStale time.Duration) *cache {
	return &cache{ttl: ttl, maxStale: max(maxStale, ttl), metrics: map[string]*entry[metricData]{}}
}

// Invalidate is for changes the caller cannot name one by one (an import of many users,
// a change made outside this process): it marks every snapshot stale and starts reloading
// the directory in the background. Until that load lands, roll-ups are served from the
// marked snapshots, as they were before the change (their AsOf is older than it), plus
// every UserChanged and UnitChanged since; a snapshot older than Config.MaxStale is never
// served. For a change to one user or unit, call UserChanged or UnitChanged instead: they
// show at once.
func (s *Service) Invalidate() {
	c := s.cache
	c.dir.mark()
	c.mu.Lock()
	for _, e := range c.metrics {
		e.mark()
	}
	c.mu.Unlock()
	if c.ttl > 0 {
		go func() {
			// The load stores its result in the cache; a failure leaves the marked
			// snapshot, and the next request tries again.
			_, _, _ = s.directory(context.Background())
		}()
	}
}

// Warm loads the directory and, for every target stored, who is done under its metric (up
// to the number of metric snapshots kept), so that the first roll-ups after a start do not
// wait for them. The server runs it in the background at start-up; a request that comes
// meanwhile waits for the same load instead of starting another. It returns the first
// error met (the database is unavailable, or ctx ends).
func (s *Service) Warm(ctx context.Context) error {
	if _, _, err := s.directory(ctx); err != nil {
		return err
	}
	cur, err := s.targets.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}}))
	if err != nil {
		return fmt.Errorf("reports: find targets: %w", dbErr(err))
	}
	var targets []Target
	if err := cur.All(ctx, &targets); err != nil {
		return fmt.Errorf("reports: read targets: %w", dbErr(err))
	}
	seen := map[string]bool{}
	for _, t := range targets {
		k := metricKey(t)
		if seen[k] {
			continue
		}
		seen[k] = true
		if len(seen) > maxMetricEntries {
			break
		}
		if _, _, err := s.metric(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// StaffFinder is an optional extension of Directory: one user, active or not, with only
// the fields reports uses, read by id. UserChanged uses it when the Directory has it.
type StaffFinder interface {
	// FindStaff returns the user; an error wrapping errs.ErrNotFound when unknown.
	FindStaff(ctx context.Context, userID string) (accounts.User, error)
}

// UserChanged applies the current state of one user to the directory snapshot: a user
// created, moved to another unit, renamed, given another position, deactivated or
// reactivated is counted accordingly by the next roll-up, without a full reload. It reads
// that one user (a find by id); a user who no longer exists is dropped. Per-metric data
// is not touched: it is keyed by user, not by unit. It returns an error wrapping
// errs.ErrInvalid for a malformed id and the read's error (the snapshot is then left as it
// was).
func (s *Service) UserChanged(ctx context.Context, userID string) error {
	if !ids.Valid(userID) {
		return fmt.Errorf("user id %q: %w", userID, errs.ErrInvalid)
	}
	s.cache.edits.Lock()
	defer s.cache.edits.Unlock()
	u, err := s.findStaff(ctx, userID)
	found := err == nil
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return fmt.Errorf("reports: re-read user %s: %w", userID, err)
	}
	keep := found && u.Active
	u = staffFields(u)
	s.cache.dir.update(func(d *directory) *directory { return d.withUser(userID, u, keep) })
	return nil
}

// findStaff reads one user through StaffFinder when the Directory has it.
func (s *Service) findStaff(ctx context.Context, userID string) (accounts.User, error) {
	if f, ok := s.dir.(StaffFinder); ok {
		return f.FindStaff(ctx, userID)
	}
	us, err := s.dir.FindUsersByIDs(ctx, []string{userID})
	if err != nil {
		return accounts.User{}, err
	}
	if len(us) == 0 {
		return accounts.User{}, fmt.Errorf("user %s: %w", userID, errs.ErrNotFound)
	}
	return us[0], nil
}

// UnitChanged applies the current state of one unit to the directory snapshot: a unit
// created, renamed or moved (its whole subtree moves with it, as accounts rewrites their
// paths) shows in the next roll-up, without a full reload. It reads that one unit; a unit
// that no longer exists is dropped. It returns an error wrapping errs.ErrInvalid for a
// malformed id and the read's error (the snapshot is then left as it was).
func (s *Service) UnitChanged(ctx context.Context, unitID string) error {
	if !ids.Valid(unitID) {
		return fmt.Errorf("unit id %q: %w", unitID, errs.ErrInvalid)
	}
	s.cache.edits.Lock()
	defer s.cache.edits.Unlock()
	u, err := s.dir.FindUnitByID(ctx, unitID)
	found := err == nil
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return fmt.Errorf("reports: re-read unit %s: %w", unitID, err)
	}
	s.cache.dir.update(func(d *directory) *directory { return d.withUnit(unitID, u, found) })
	return nil
}

// UnitsChanged re-reads every unit (not the users) into the directory snapshot, for a unit
// change whose unit the caller cannot name (a unit created through a form that answers
// with a redirect). Units are few (3,000 in a province read in a fraction of a second).
// It returns the read's error, leaving the snapshot as it was.
func (s *Service) UnitsChanged(ctx context.Context) error {
	s.cache.edits.Lock()
	defer s.cache.edits.Unlock()
	units, err := s.dir.AllUnits(ctx)
	if err != nil {
		return fmt.Errorf("reports: units: %w", err)
	}
	sortUnits(units)
	s.cache.dir.update(func(d *directory) *directory {
		nd := *d
		nd.units, nd.byID = units, unitsByID(units)
		return &nd
	})
	return nil
}

// staffFields keeps the fields of a user that reports uses (those ListActiveStaff reads).
func staffFields(u accounts.User) accounts.User {
	return accounts.User{ID: u.ID, Username: u.Username, FullName: u.FullName, UnitID: u.UnitID,
		Position: u.Position, Active: u.Active, NameFold: u.NameFold}
}

// withUser returns a copy of d with user id replaced by u, added (keep) or removed (!keep).
func (d *directory) withUser(id string, u accounts.User, keep bool) *directory {
	i := slices.IndexFunc(d.users, func(x accounts.User) bool { return x.ID == id })
	if i < 0 && !keep {
		return d
	}
	users := make([]accounts.User, 0, len(d.users)+1)
	switch {
	case i >= 0 && keep:
		users = append(append(append(users, d.users[:i]...), u), d.users[i+1:]...)
	case i >= 0:
		users = append(append(users, d.users[:i]...), d.users[i+1:]...)
	default:
		users = append(append(users, d.users...), u)
	}
	nd := *d
	nd.users = users
	return &nd
}

// withUnit returns a copy of d with unit id replaced by u (or added), or removed when
// !found. When the unit moved, every unit below it gets the path accounts gave it: the
// unit's new path, the unit, and the part of its own path below the unit.
func (d *directory) withUnit(id string, u accounts.Unit, found bool) *directory {
	units := make([]accounts.Unit, 0, len(d.units)+1)
	for _, x := range d.units {
		switch {
		case x.ID == id:
			continue
		case found:
			if i := slices.Index(x.Path, id); i >= 0 {
				x.Path = append(append(slices.Clone(u.Path), id), x.Path[i+1:]...)
			}
		}
		units = append(units, x)
	}
	if found {
		units = append(units, u)
	}
	sortUnits(units)
	nd := *d
	nd.units, nd.byID = units, unitsByID(units)
	return &nd
}

// sortUnits orders units as accounts.AllUnits does: by depth, then folded name, then id,
// so parents come before their children.
func sortUnits(units []accounts.Unit) {
	slices.SortFunc(units, func(a, b accounts.Unit) int {
		if c := len(a.Path) - len(b.Path); c != 0 {
			return c
		}
		if c := strings.Compare(a.NameFold, b.NameFold); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// directory returns the directory snapshot and when it was read.
func (s *Service) directory(ctx context.Context) (*directory, time.Time, error) {
	return s.cache.dir.get(ctx, s.now, s.cache.ttl, s.cache.maxStale, func(ctx context.Context) (*directory, error) {
		units, err := s.dir.AllUnits(ctx)
		if err != nil {
			return nil, fmt.Errorf("reports: units: %w", err)
		}
		var users []accounts.User
		if l, ok := s.dir.(ActiveStaffLister); ok {
			users, err = l.ListActiveStaff(ctx)
		} else {
			all := make([]string, len(units))
			for i, u := range units {
				all[i] = u.ID
			}
			users, err = s.dir.ListUsersInUnits(ctx, all)
		}
		if err != nil {
			return nil, fmt.Errorf("reports: users: %w", err)
		}
		active := users[:0]
		for _, u := range users {
			if u.Active {
				active = append(active, staffFields(u))
			}
		}
		sortUnits(units)
		return &directory{units: units, byID: unitsByID(units), users: active, at: s.now()}, nil
	})
}

// metricKey identifies the data a target's metric is computed from.
func metricKey(t Target) string {
	return string(t.Metric) + "|" + t.CourseID + "|" + t.QuizID + "|" + strconv.Itoa(t.MinMinutes)
}

// metric returns who is done under t's metric and when that was read.
func (s *Service) metric(ctx context.Context, t Target) (metricData, time.Time, error) {
	key := metricKey(t)
	c := s.cache
	c.mu.Lock()
	e, ok := c.metrics[key]
	if !ok {
		e = &entry[metricData]{}
		c.metrics[key] = e
		c.order = append(c.order, key)
		for len(c.order) > maxMetricEntries {
			delete(c.metrics, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.mu.Unlock()
	return e.get(ctx, s.now, c.ttl, c.maxStale, func(ctx context.Context) (metricData, error) {
		done, progress, err := s.doneSet(ctx, t)
		return metricData{done: done, progress: progress}, err
	})
}
