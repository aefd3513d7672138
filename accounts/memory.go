package accounts

import (
	"sync"
	"time"
)

// maxThrottleKeys bounds each map of the login throttle. Beyond it, entries whose window
// has passed are pruned first and arbitrary ones after that: a flood of distinct
// usernames or addresses costs the attacker the protection of their own older counters,
// never the server its memory.
const maxThrottleKeys = 100_000

// throttle counts failed logins per username and per client address in fixed windows
// that start at the first failure. It lives in memory: a restart forgets it, and each node
// of a cluster counts on its own (the per-user limit is then per node).
type throttle struct {
	mu     sync.Mutex
	window time.Duration
	users  map[string]failureCount
	ips    map[string]failureCount
	writes int
}

type failureCount struct {
	start time.Time
	n     int
}

func newThrottle(window time.Duration) *throttle {
	return &throttle{window: window, users: map[string]failureCount{}, ips: map[string]failureCount{}}
}

// count returns the failures of key in m within the current window.
func (t *throttle) count(m map[string]failureCount, key string, now time.Time) int {
	c, ok := m[key]
	if !ok || !now.Before(c.start.Add(t.window)) {
		return 0
	}
	return c.n
}

// limited reports whether username and ip have reached their limits (ip may be empty).
func (t *throttle) limited(username, ip string, now time.Time, maxUser, maxIP int) (user, addr bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	user = t.count(t.users, username, now) >= maxUser
	addr = ip != "" && t.count(t.ips, ip, now) >= maxIP
	return user, addr
}

// fail records one failed login for username and ip.
func (t *throttle) fail(username, ip string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.add(t.users, username, now)
	if ip != "" {
		t.add(t.ips, ip, now)
	}
	t.writes++
	if t.writes%1024 == 0 || len(t.users) > maxThrottleKeys || len(t.ips) > maxThrottleKeys {
		t.prune(t.users, now)
		t.prune(t.ips, now)
	}
}

func (t *throttle) add(m map[string]failureCount, key string, now time.Time) {
	c, ok := m[key]
	if !ok || !now.Before(c.start.Add(t.window)) {
		c = failureCount{start: now}
	}
	c.n++
	m[key] = c
}

func (t *throttle) prune(m map[string]failureCount, now time.Time) {
	for k, c := range m {
		if !now.Before(c.start.Add(t.window)) {
			delete(m, k)
		}
	}
	for k := range m { // map order is random, so this drops arbitrary entries
		if len(m) <= maxThrottleKeys {
			break
		}
		delete(m, k)
	}
}

// authCache maps a session id (the token's hash) to the principal it authenticated, so
// that most requests need no database read. Entries live until a deadline no later than
// the session's expiry; writers invalidate explicitly.
type authCache struct {
	mu  sync.Mutex
	max int
	m   map[string]authEntry
	// gen counts invalidations. Authenticate notes it before reading the database and
	// stores its result only if no invalidation happened meanwhile, so a deactivation that
	// races with a cache miss cannot leave a stale principal behind.
	gen uint64
}

type authEntry struct {
	p     Principal
	until time.Time
}

func newAuthCache(size int) *authCache {
	return &authCache{max: size, m: map[string]authEntry{}}
}

func (c *authCache) get(key string, now time.Time) (Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return Principal{}, false
	}
	if !now.Before(e.until) {
		delete(c.m, key)
		return Principal{}, false
	}
	return e.p, true
}

func (c *authCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put stores p until the given time, unless an invalidation happened since gen.
func (c *authCache) put(key string, p Principal, until time.Time, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || !now.Before(until) {
		return
	}
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		// Still full: drop an arbitrary eighth (map order is random); they are re-read on
		// their next request.
		for k := range c.m {
			if len(c.m) < c.max-c.max/8 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = authEntry{p: p, until: until}
}

// remove forgets one session.
func (c *authCache) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, key)
}

// removeUser forgets every session of a user.
func (c *authCache) removeUser(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.m {
		if e.p.User.ID == userID {
			delete(c.m, k)
		}
	}
}

func (c *authCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
