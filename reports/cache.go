package reports

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"hoctap/accounts"
)

// Why a cache: on embedded FerretDB every find decodes the whole collection, and reading
// 40,000 user documents or 30,000 enrolments takes seconds (BenchmarkTargetStatusProvince),
// so a province-wide roll-up cannot read them per request and answer in under a second.
// Reports therefore keeps two read-only snapshots in memory: the directory (every unit
// and every active user) and, per target metric, who is done. A snapshot is fresh for
// Config.CacheTTL (30 s by default, like the accounts session cache); after that it is
// still served, up to Config.MaxStale (10 min), while one background load replaces it;
// Invalidate drops everything, and the next request loads afresh. Every figure carries
// the time of the data it was computed from (AsOf). Loads are shared: concurrent requests
// wait for one load instead of each starting their own.

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
	gen        uint64
	refreshing bool
	loading    *load[T]
}

// load is one foreground load that callers wait on.
type load[T any] struct {
	done chan struct{}
	val  T
	at   time.Time
	err  error
}

// get returns the cached value when it is younger than ttl (and of the current
// generation). A value older than ttl but younger than maxStale is still returned, and
// one background load replaces it: on FerretDB a province's directory takes seconds to
// read, and nobody should wait for that every ttl. Anything older, a new generation
// (Invalidate) or no value at all is loaded in the foreground, once for all callers.
func (e *entry[T]) get(ctx context.Context, now func() time.Time, ttl, maxStale time.Duration, gen uint64, fetch func(context.Context) (T, error)) (T, time.Time, error) {
	e.mu.Lock()
	t := now()
	if e.ok && ttl > 0 && e.gen == gen && !t.Before(e.at) {
		age := t.Sub(e.at)
		if age < ttl {
			defer e.mu.Unlock()
			return e.val, e.at, nil
		}
		if age < maxStale {
			defer e.mu.Unlock()
			if !e.refreshing {
				e.refreshing = true
				go e.refresh(context.WithoutCancel(ctx), now, gen, fetch)
			}
			return e.val, e.at, nil
		}
	}
	l := e.loading
	if l == nil {
		l = &load[T]{done: make(chan struct{})}
		e.loading = l
		e.mu.Unlock()
		finished := false
		defer func() {
			if !finished { // fetch panicked: release the waiters; the panic goes on up
				l.err = errors.New("reports: loading the cache failed")
				e.mu.Lock()
				e.loading = nil
				e.mu.Unlock()
				close(l.done)
			}
		}()
		l.val, l.err = fetch(ctx)
		finished = true
		l.at = t
		e.mu.Lock()
		if l.err == nil {
			e.val, e.at, e.ok, e.gen = l.val, t, true, gen
		}
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

// refresh loads a value in the background and stores it unless the cache was invalidated
// meanwhile. A failed refresh keeps the old value; the next caller past ttl tries again.
func (e *entry[T]) refresh(ctx context.Context, now func() time.Time, gen uint64, fetch func(context.Context) (T, error)) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	t := now()
	v, err := fetch(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.refreshing = false
	if err == nil && e.gen == gen && t.After(e.at) {
		e.val, e.at = v, t
	}
}

// directory is a snapshot of the organisation: every unit and every active user.
type directory struct {
	units []accounts.Unit
	byID  map[string]accounts.Unit
	users []accounts.User // active users only, sorted by name
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
	mu       sync.Mutex // guards gen and metrics
	gen      uint64
	dir      entry[*directory]
	metrics  map[string]*entry[metricData]
	order    []string // metric keys, oldest first, for eviction
}

func newCache(ttl, maxStale time.Duration) *cache {
	return &cache{ttl: ttl, maxStale: max(maxStale, ttl), metrics: map[string]*entry[metricData]{}}
}

func (c *cache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Invalidate drops every cached snapshot, so the next report reads the directory,
// enrolments, quiz results and attendance afresh. The server calls it after changes it
// knows of (a user moved, deactivated or imported; enrolments changed); without a call,
// snapshots expire after Config.CacheTTL.
func (s *Service) Invalidate() {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	s.cache.gen++
	s.cache.metrics = map[string]*entry[metricData]{}
	s.cache.order = nil
}

// directory returns the directory snapshot and when it was read.
func (s *Service) directory(ctx context.Context) (*directory, time.Time, error) {
	return s.cache.dir.get(ctx, s.now, s.cache.ttl, s.cache.maxStale, s.cache.generation(), func(ctx context.Context) (*directory, error) {
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
				active = append(active, u)
			}
		}
		return &directory{units: units, byID: unitsByID(units), users: active, at: s.now()}, nil
	})
}

// metric returns who is done under t's metric and when that was read.
func (s *Service) metric(ctx context.Context, t Target) (metricData, time.Time, error) {
	key := string(t.Metric) + "|" + t.CourseID + "|" + t.QuizID + "|" + strconv.Itoa(t.MinMinutes)
	c := s.cache
	c.mu.Lock()
	gen := c.gen
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
	return e.get(ctx, s.now, c.ttl, c.maxStale, gen, func(ctx context.Context) (metricData, error) {
		done, progress, err := s.doneSet(ctx, t)
		return metricData{done: done, progress: progress}, err
	})
}
