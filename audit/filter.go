package audit

import (
	"encoding/csv"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	_ "time/tzdata" // Asia/Ho_Chi_Minh must be known even in a minimal container

	"go.mongodb.org/mongo-driver/v2/bson"

	"hoctap/accounts"
	"hoctap/audit/trail"
	"hoctap/internal/errs"
)

// Page size limits of List.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// vietnam is the zone a bare date (no time of day) is read in: people mean their own day.
var vietnam = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		panic(err) // time/tzdata is linked in
	}
	return loc
}()

// Filter selects entries for List and WriteCSV; empty fields do not filter. Since and
// Until are RFC 3339 times, or dates (2025-12-31 or 31/12/2025) read as whole days in
// Asia/Ho_Chi_Minh: Since from the start of its day, Until to the end of its day.
type Filter struct {
	Actor  string // a user id or a username (or "system")
	Action string // one of trail.Actions
	Since  string
	Until  string
	Limit  int // default 50, at most 500 (List only; WriteCSV exports every match)
	Offset int
}

// query is a Filter made ready for the database.
type query struct {
	actor        string
	action       trail.Action
	since, until time.Time // zero: open
	limit        int
	offset       int
}

// ParseTime reads an RFC 3339 time, or a date as 2006-01-02 or 02/01/2006 in
// Asia/Ho_Chi_Minh; for a date, end=true gives the last millisecond of that day. ok is
// false for anything else.
func ParseTime(s string, end bool) (t time.Time, ok bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	for _, layout := range []string{"2006-01-02", "02/01/2006", "2/1/2006"} {
		if d, err := time.ParseInLocation(layout, s, vietnam); err == nil {
			if end {
				d = d.AddDate(0, 0, 1).Add(-time.Millisecond)
			}
			return d.UTC(), true
		}
	}
	return time.Time{}, false
}

// compile checks f: an unknown action, an unreadable time, Until before Since or a
// negative offset is an invalid error naming the field. It is pure.
func compile(f Filter) (query, error) {
	var fe errs.Fields
	q := query{actor: strings.TrimSpace(f.Actor), limit: f.Limit, offset: f.Offset}
	if a := strings.TrimSpace(f.Action); a != "" {
		q.action = trail.Action(a)
		fe.Check(!q.action.Valid(), "action", "unknown action "+quoteShort(a)+"; see docs/OPERATIONS.md for the list")
	}
	if s := strings.TrimSpace(f.Since); s != "" {
		t, ok := ParseTime(s, false)
		fe.Check(!ok, "since", "must be a time in RFC 3339 (2025-12-31T08:00:00Z) or a date (2025-12-31 or 31/12/2025)")
		q.since = t
	}
	if s := strings.TrimSpace(f.Until); s != "" {
		t, ok := ParseTime(s, true)
		fe.Check(!ok, "until", "must be a time in RFC 3339 (2025-12-31T08:00:00Z) or a date (2025-12-31 or 31/12/2025)")
		q.until = t
	}
	fe.Check(!q.since.IsZero() && !q.until.IsZero() && q.until.Before(q.since), "until", "must not be before since")
	fe.Check(len(q.actor) > 200, "actor", "is too long")
	fe.Check(f.Offset < 0, "offset", "must not be negative")
	fe.Check(f.Limit < 0, "limit", "must not be negative")
	if err := fe.Err(); err != nil {
		return query{}, err
	}
	if q.limit == 0 {
		q.limit = DefaultLimit
	}
	q.limit = min(q.limit, MaxLimit)
	return q, nil
}

func quoteShort(s string) string {
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return `"` + s + `"`
}

// Visibility is what a caller may read: everything (All), or the entries whose scope
// holds one of Units.
type Visibility struct {
	All   bool
	Units []string
}

// VisibilityOf returns what p may read: an admin everything; a unit_admin the entries
// touching the units they administer (their scope roots: a root covers its subtree,
// because every entry's scope holds the ancestors of its units); anyone else nothing, an
// error wrapping errs.ErrForbidden. It is pure.
func VisibilityOf(p accounts.Principal) (Visibility, error) {
	switch {
	case p.Has(accounts.RoleAdmin):
		return Visibility{All: true}, nil
	case p.Has(accounts.RoleUnitAdmin):
		roots := slices.Clone(p.User.AdminUnitIDs)
		if len(roots) == 0 && p.User.UnitID != "" {
			roots = []string{p.User.UnitID}
		}
		if len(roots) == 0 {
			return Visibility{}, errForbidden()
		}
		return Visibility{Units: roots}, nil
	default:
		return Visibility{}, errForbidden()
	}
}

// Sees reports whether v lets its holder read an entry with this scope. It is what
// bsonFilter asks the database, for tests and callers holding entries in memory.
func (v Visibility) Sees(scope []string) bool {
	if v.All {
		return true
	}
	for _, u := range v.Units {
		if slices.Contains(scope, u) {
			return true
		}
	}
	return false
}

// bsonFilter is the find filter of q for v. The unit check is one match on the indexed
// array "scope" ($in on an array field works on MongoDB and FerretDB alike).
func bsonFilter(q query, v Visibility) bson.M {
	m := bson.M{}
	if !v.All {
		if len(v.Units) == 1 {
			m["scope"] = v.Units[0]
		} else {
			m["scope"] = bson.M{"$in": v.Units}
		}
	}
	if q.actor != "" {
		m["$or"] = bson.A{bson.M{"actor": q.actor}, bson.M{"actor_name": strings.ToLower(q.actor)}}
	}
	if q.action != "" {
		m["action"] = q.action
	}
	at := bson.M{}
	if !q.since.IsZero() {
		at["$gte"] = q.since
	}
	if !q.until.IsZero() {
		at["$lte"] = q.until
	}
	if len(at) > 0 {
		m["at"] = at
	}
	return m
}

// scopeOf returns the scope of an entry: every unit in direct (the actor's and the
// object's units) with all its ancestors (paths maps a unit id to its ancestors' ids),
// sorted, without duplicates. A unit missing from paths is kept by itself. It is pure.
func scopeOf(direct []string, paths map[string][]string) []string {
	set := map[string]bool{}
	for _, id := range direct {
		if id == "" {
			continue
		}
		set[id] = true
		for _, a := range paths[id] {
			set[a] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// CSVHeader is the first line of the CSV export.
var CSVHeader = []string{"at", "actor", "actor_name", "action", "object", "object_label", "details"}

// CSVRow shapes one entry as a CSV line: at in RFC 3339 UTC, details as "key=value"
// pairs sorted by key and joined by "; ". Cells a spreadsheet would run as a formula
// (starting with = + - @ or a tab) are prefixed with a quote. It is pure.
func CSVRow(e trail.Entry) []string {
	keys := slices.Sorted(maps.Keys(e.Details))
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = k + "=" + e.Details[k]
	}
	return []string{
		e.At.UTC().Format(time.RFC3339),
		csvSafe(e.Actor), csvSafe(e.ActorName), string(e.Action),
		csvSafe(e.Object), csvSafe(e.ObjectLabel), csvSafe(strings.Join(pairs, "; ")),
	}
}

func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// BOM starts the CSV export, so spreadsheet programs read it as UTF-8 (Vietnamese names).
const BOM = "\ufeff"

// newCSV returns a CSV writer on w that has written the BOM and the header. Lines end in
// CRLF, as spreadsheet programs expect.
func newCSV(w io.Writer) (*csv.Writer, error) {
	if _, err := io.WriteString(w, BOM); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(CSVHeader); err != nil {
		return nil, err
	}
	return cw, nil
}
