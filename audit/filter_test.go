package audit

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"hoctap/accounts"
	"hoctap/audit/trail"
	"hoctap/internal/errs"
)

func TestCompileFilter(t *testing.T) {
	day := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	cases := []struct {
		name      string
		f         Filter
		badField  string // "" means valid
		since     time.Time
		until     time.Time
		limit     int
		wantActor string
	}{
		{name: "empty", f: Filter{}, limit: DefaultLimit},
		{name: "rfc3339", f: Filter{Since: "2025-03-01T08:00:00+07:00", Until: "2025-03-02T00:00:00Z"},
			since: day("2025-03-01T01:00:00Z"), until: day("2025-03-02T00:00:00Z"), limit: DefaultLimit},
		{name: "iso dates are whole Vietnamese days", f: Filter{Since: "2025-03-01", Until: "2025-03-01"},
			since: day("2025-02-28T17:00:00Z"), until: day("2025-03-01T17:00:00Z").Add(-time.Millisecond), limit: DefaultLimit},
		{name: "dd/MM/yyyy", f: Filter{Since: "01/03/2025", Until: "31/03/2025"},
			since: day("2025-02-28T17:00:00Z"), until: day("2025-03-31T17:00:00Z").Add(-time.Millisecond), limit: DefaultLimit},
		{name: "same instant", f: Filter{Since: "2025-03-01T00:00:00Z", Until: "2025-03-01T00:00:00Z"},
			since: day("2025-03-01T00:00:00Z"), until: day("2025-03-01T00:00:00Z"), limit: DefaultLimit},
		{name: "known action and actor", f: Filter{Action: "user.create", Actor: " admin "}, limit: DefaultLimit, wantActor: "admin"},
		{name: "limit capped", f: Filter{Limit: 10_000}, limit: MaxLimit},
		{name: "unknown action", f: Filter{Action: "user.delete"}, badField: "action"},
		{name: "malformed since", f: Filter{Since: "yesterday"}, badField: "since"},
		{name: "malformed until", f: Filter{Until: "2025-13-01"}, badField: "until"},
		{name: "until before since", f: Filter{Since: "2025-03-02", Until: "2025-03-01"}, badField: "until"},
		{name: "negative offset", f: Filter{Offset: -1}, badField: "offset"},
		{name: "negative limit", f: Filter{Limit: -5}, badField: "limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := compile(c.f)
			if c.badField != "" {
				var fe *errs.FieldError
				if !errors.As(err, &fe) || !errors.Is(err, errs.ErrInvalid) {
					t.Fatalf("compile(%+v) = %v, want an invalid error", c.f, err)
				}
				if _, ok := fe.Fields[c.badField]; !ok {
					t.Fatalf("fields %v, want %q", fe.Fields, c.badField)
				}
				return
			}
			if err != nil {
				t.Fatalf("compile(%+v): %v", c.f, err)
			}
			if !q.since.Equal(c.since) || !q.until.Equal(c.until) {
				t.Errorf("since, until = %v, %v; want %v, %v", q.since, q.until, c.since, c.until)
			}
			if q.limit != c.limit {
				t.Errorf("limit = %d, want %d", q.limit, c.limit)
			}
			if q.actor != c.wantActor {
				t.Errorf("actor = %q, want %q", q.actor, c.wantActor)
			}
		})
	}
}

func TestVisibility(t *testing.T) {
	user := func(unit string, admin []string, roles ...accounts.Role) accounts.Principal {
		return accounts.Principal{User: accounts.User{ID: "u", UnitID: unit, AdminUnitIDs: admin, Roles: roles}}
	}
	cases := []struct {
		name      string
		p         accounts.Principal
		forbidden bool
		scope     []string
		sees      bool
	}{
		{"admin sees an entry without units", user("root", nil, accounts.RoleAdmin), false, nil, true},
		{"unit admin of own unit, entry below", user("prov", nil, accounts.RoleUnitAdmin), false, []string{"dept", "prov", "root"}, true},
		{"unit admin of own unit, entry elsewhere", user("prov", nil, accounts.RoleUnitAdmin), false, []string{"other", "root"}, false},
		{"unit admin of an ancestor only", user("prov", nil, accounts.RoleUnitAdmin), false, []string{"root"}, false},
		{"unit admin with admin units, second root", user("x", []string{"a", "b"}, accounts.RoleUnitAdmin), false, []string{"b", "root"}, true},
		{"unit admin with admin units ignores own unit", user("x", []string{"a"}, accounts.RoleUnitAdmin), false, []string{"x"}, false},
		{"unit admin without any unit", user("", nil, accounts.RoleUnitAdmin), true, nil, false},
		{"lecturer", user("prov", nil, accounts.RoleLecturer), true, nil, false},
		{"trainer", user("prov", nil, accounts.RoleTrainer), true, nil, false},
		{"learner", user("prov", nil, accounts.RoleLearner), true, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := VisibilityOf(c.p)
			if c.forbidden {
				if !errors.Is(err, errs.ErrForbidden) {
					t.Fatalf("VisibilityOf = %v, want forbidden", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Sees(c.scope); got != c.sees {
				t.Errorf("Sees(%v) = %v, want %v", c.scope, got, c.sees)
			}
		})
	}
}

func TestScopeOf(t *testing.T) {
	paths := map[string][]string{"dept": {"root", "prov"}, "prov": {"root"}, "other": {"root"}}
	cases := []struct {
		direct []string
		want   []string
	}{
		{nil, []string{}},
		{[]string{""}, []string{}},
		{[]string{"dept"}, []string{"dept", "prov", "root"}},
		{[]string{"dept", "other", "dept"}, []string{"dept", "other", "prov", "root"}},
		{[]string{"gone"}, []string{"gone"}},
	}
	for _, c := range cases {
		if got := scopeOf(c.direct, paths); !slices.Equal(got, c.want) {
			t.Errorf("scopeOf(%v) = %v, want %v", c.direct, got, c.want)
		}
	}
}

func TestCSVRow(t *testing.T) {
	at := time.Date(2025, 3, 1, 8, 30, 0, 0, time.FixedZone("ICT", 7*3600))
	cases := []struct {
		name string
		e    trail.Entry
		want []string
	}{
		{"plain", trail.Entry{At: at, Actor: "a1", ActorName: "admin", Action: trail.UserCreate, Object: "user:u1", ObjectLabel: "nguyenvana",
			Details: map[string]string{"unit": "SNV", "roles": "learner"}},
			[]string{"2025-03-01T01:30:00Z", "a1", "admin", "user.create", "user:u1", "nguyenvana", "roles=learner; unit=SNV"}},
		{"no details", trail.Entry{At: at, Actor: "system", ActorName: "system", Action: trail.CertificateIssue, Object: "certificate:c1"},
			[]string{"2025-03-01T01:30:00Z", "system", "system", "certificate.issue", "certificate:c1", "", ""}},
		{"formula cells are defused", trail.Entry{At: at, Actor: "a", ActorName: "=cmd", Action: trail.CertificateRevoke, Object: "certificate:c", ObjectLabel: "+1",
			Details: map[string]string{"=reason": "x"}},
			[]string{"2025-03-01T01:30:00Z", "a", "'=cmd", "certificate.revoke", "certificate:c", "'+1", "'=reason=x"}},
		{"vietnamese kept", trail.Entry{At: at, Actor: "a", ActorName: "a", Action: trail.CertificateRevoke, Object: "certificate:c",
			Details: map[string]string{"reason": "Cấp nhầm; sai họ tên"}},
			[]string{"2025-03-01T01:30:00Z", "a", "a", "certificate.revoke", "certificate:c", "", "reason=Cấp nhầm; sai họ tên"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := CSVRow(c.e); !slices.Equal(got, c.want) {
				t.Errorf("CSVRow = %q\nwant      %q", got, c.want)
			}
			if len(CSVRow(c.e)) != len(CSVHeader) {
				t.Errorf("row has %d cells, header %d", len(CSVRow(c.e)), len(CSVHeader))
			}
		})
	}
}

func TestActionsAreClosedAndNamedObjectVerb(t *testing.T) {
	seen := map[trail.Action]bool{}
	for _, a := range trail.Actions {
		if seen[a] {
			t.Errorf("%s listed twice", a)
		}
		seen[a] = true
		if !a.Valid() || strings.Count(string(a), ".") != 1 || strings.ToLower(string(a)) != string(a) {
			t.Errorf("%q is not a lower-case object.verb name", a)
		}
	}
	if trail.Action("user.delete").Valid() || trail.Action("").Valid() {
		t.Error("an action outside the list is valid")
	}
}
