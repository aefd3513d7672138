package audit

import (
	"bytes"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"hoctap/accounts"
	"hoctap/audit/trail"
	"hoctap/internal/clock"
	"hoctap/internal/dbtest"
	"hoctap/internal/errs"
)

// env is a Log over a fresh database with a unit tree root > prov > dept, and other
// under root, made through the real accounts service.
type env struct {
	log                   *Log
	acc                   *accounts.Service
	clk                   *clock.Fixed
	root, prov, dept, oth accounts.Unit
	admin                 accounts.Principal
}

var epoch = time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	db := dbtest.New(t)
	ctx := t.Context()
	clk := clock.NewFixed(epoch)
	acc := accounts.NewService(db.Database, accounts.Config{Argon2: accounts.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}, clk.Now)
	if err := acc.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{clk: clk, acc: acc, log: New(Config{DB: db.Database, Units: acc, Clock: clk.Now})}
	if err := e.log.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.log.EnsureIndexes(ctx); err != nil { // a restart
		t.Fatalf("second EnsureIndexes: %v", err)
	}
	e.admin = accounts.Principal{User: accounts.User{ID: "admin-id", Username: "admin", Roles: []accounts.Role{accounts.RoleAdmin}}}
	mk := func(name, code, parent string) accounts.Unit {
		u, err := acc.CreateUnit(ctx, e.admin, accounts.NewUnit{Name: name, Code: code, ParentID: parent})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	e.root = mk("Tỉnh", "ROOT", "")
	e.prov = mk("Sở Nội vụ", "SNV", e.root.ID)
	e.dept = mk("Phòng Tổ chức", "PTC", e.prov.ID)
	e.oth = mk("Sở Tài chính", "STC", e.root.ID)
	e.admin.User.UnitID = e.root.ID
	return e
}

func unitAdmin(unitID string) accounts.Principal {
	return accounts.Principal{User: accounts.User{ID: "ua-" + unitID, Username: "ua", UnitID: unitID, Roles: []accounts.Role{accounts.RoleUnitAdmin}}}
}

func actorIn(name, unitID string) trail.Actor {
	return trail.Actor{ID: name + "-id", Name: name, UnitID: unitID}
}

func TestRecordAndListFilters(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	// Actors and objects in different units; the clock moves an hour per entry.
	rec := func(en trail.Entry) {
		t.Helper()
		if err := e.log.Record(ctx, en); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(time.Hour)
	}
	rec(actorIn("ua", e.dept.ID).Did(trail.UserCreate, "user:1", "lan").In(e.dept.ID).With("roles", "learner")) // 01:00
	rec(actorIn("admin", e.root.ID).Did(trail.UnitCreate, "unit:x", "STC").In(e.oth.ID))                        // 02:00
	rec(trail.System.Did(trail.CertificateIssue, "certificate:c", "HT-1").In(e.prov.ID))                        // 03:00
	rec(actorIn("ua", e.dept.ID).Did(trail.UserDisable, "user:2", "binh").In(e.oth.ID))                         // 04:00

	all, err := e.log.List(ctx, e.admin, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != 4 || len(all.Items) != 4 || all.Items[0].Action != trail.UserDisable || all.Items[3].Action != trail.UserCreate {
		t.Fatalf("admin list (newest first) = %+v", all)
	}
	first := all.Items[3]
	if first.ID == "" || !first.At.Equal(epoch) || first.Actor != "ua-id" || first.ActorName != "ua" || first.Object != "user:1" ||
		first.Details["roles"] != "learner" || !slices.Equal(first.UnitIDs, []string{e.dept.ID}) {
		t.Errorf("stored entry = %+v", first)
	}

	count := func(p accounts.Principal, f Filter) int {
		t.Helper()
		pg, err := e.log.List(ctx, p, f)
		if err != nil {
			t.Fatalf("List(%+v): %v", f, err)
		}
		if len(pg.Items) != min(pg.Total, max(f.Limit, DefaultLimit)) && f.Offset == 0 {
			t.Errorf("List(%+v) returned %d items of %d", f, len(pg.Items), pg.Total)
		}
		return pg.Total
	}
	for _, c := range []struct {
		name string
		p    accounts.Principal
		f    Filter
		want int
	}{
		{"by actor id", e.admin, Filter{Actor: "ua-id"}, 2},
		{"by actor username", e.admin, Filter{Actor: "UA"}, 2},
		{"system", e.admin, Filter{Actor: "system"}, 1},
		{"by action", e.admin, Filter{Action: "unit.create"}, 1},
		{"since", e.admin, Filter{Since: "2025-03-01T03:00:00Z"}, 2},
		{"until", e.admin, Filter{Until: "2025-03-01T02:00:00Z"}, 2},
		{"between", e.admin, Filter{Since: "2025-03-01T02:00:00Z", Until: "2025-03-01T03:00:00Z"}, 2},
		{"whole Vietnamese day", e.admin, Filter{Since: "01/03/2025", Until: "01/03/2025"}, 4},
		{"the day before", e.admin, Filter{Until: "28/02/2025"}, 0},
		{"everything combined", e.admin, Filter{Actor: "ua", Action: "user.disable", Since: "2025-03-01"}, 1},
		// dept's unit admin: entries whose actor or object is in dept.
		{"unit admin of dept", unitAdmin(e.dept.ID), Filter{}, 2},
		// prov's: the two above (dept lies below prov) and the certificate in prov.
		{"unit admin of prov", unitAdmin(e.prov.ID), Filter{}, 3},
		{"unit admin of prov, by action", unitAdmin(e.prov.ID), Filter{Action: "unit.create"}, 0},
		// other's: the unit created there and the user disabled there.
		{"unit admin of other", unitAdmin(e.oth.ID), Filter{}, 2},
		{"unit admin of root", unitAdmin(e.root.ID), Filter{}, 4},
		{"unit admin of two roots", accounts.Principal{User: accounts.User{ID: "x", UnitID: e.root.ID, AdminUnitIDs: []string{e.dept.ID, e.oth.ID},
			Roles: []accounts.Role{accounts.RoleUnitAdmin}}}, Filter{}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := count(c.p, c.f); got != c.want {
				t.Errorf("total = %d, want %d", got, c.want)
			}
		})
	}

	page, err := e.log.List(ctx, e.admin, Filter{Limit: 2, Offset: 1})
	if err != nil || page.Total != 4 || len(page.Items) != 2 || page.Items[0].Action != trail.CertificateIssue {
		t.Errorf("page 2 of 2 = %+v, %v", page, err)
	}
	past, err := e.log.List(ctx, e.admin, Filter{Offset: 10})
	if err != nil || past.Total != 4 || len(past.Items) != 0 || past.Items == nil {
		t.Errorf("past the end = %+v, %v", past, err)
	}
}

func TestListRefusesOthersAndBadFilters(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if err := e.log.Record(ctx, actorIn("admin", e.root.ID).Did(trail.UnitCreate, "unit:x", "X")); err != nil {
		t.Fatal(err)
	}
	for _, r := range []accounts.Role{accounts.RoleLearner, accounts.RoleLecturer, accounts.RoleTrainer} {
		p := accounts.Principal{User: accounts.User{ID: "p", UnitID: e.root.ID, Roles: []accounts.Role{r}}}
		if _, err := e.log.List(ctx, p, Filter{}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("%s: List = %v, want forbidden", r, err)
		}
		if err := e.log.WriteCSV(ctx, p, Filter{}, &bytes.Buffer{}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("%s: WriteCSV = %v, want forbidden", r, err)
		}
	}
	for _, f := range []Filter{{Since: "2025-03-02", Until: "2025-03-01"}, {Since: "soon"}, {Action: "user.nuke"}} {
		if _, err := e.log.List(ctx, e.admin, f); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("List(%+v) = %v, want invalid", f, err)
		}
		var b bytes.Buffer
		if err := e.log.WriteCSV(ctx, e.admin, f, &b); !errors.Is(err, errs.ErrInvalid) || b.Len() != 0 {
			t.Errorf("WriteCSV(%+v) = %v with %d bytes, want invalid and nothing written", f, err, b.Len())
		}
	}
}

func TestRecordRefusesBadEntriesAndKeepsNamedOnesOnce(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for _, bad := range []trail.Entry{
		{Actor: "a", Action: "user.nuke", Object: "user:1"},
		{Action: trail.UserCreate, Object: "user:1"},
		{Actor: "a", Action: trail.UserCreate},
	} {
		if err := e.log.Record(ctx, bad); !errors.Is(err, ErrBadEntry) || errs.Code(err) != "internal" {
			t.Errorf("Record(%+v) = %v, want ErrBadEntry, an internal error", bad, err)
		}
	}
	named := trail.System.Did(trail.CertificateIssue, "certificate:c", "HT-1")
	named.ID = "certificate.issue:c"
	for range 2 {
		if err := e.log.Record(ctx, named); err != nil {
			t.Fatal(err)
		}
	}
	pg, err := e.log.List(ctx, e.admin, Filter{})
	if err != nil || pg.Total != 1 {
		t.Fatalf("after bad entries and a named entry twice: %+v, %v", pg, err)
	}
}

// The log is append-only: no method of Log writes except Record's insert, and Record
// never touches an existing entry.
func TestRecordNeverChangesStoredEntries(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	en := actorIn("admin", e.root.ID).Did(trail.UserCreate, "user:1", "lan").With("roles", "learner")
	en.ID = "fixed"
	if err := e.log.Record(ctx, en); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	en.Details = map[string]string{"roles": "admin"}
	if err := e.log.Record(ctx, en); err != nil {
		t.Fatal(err)
	}
	var got trail.Entry
	if err := e.log.coll.FindOne(ctx, bson.M{"_id": "fixed"}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Details["roles"] != "learner" || !got.At.Equal(epoch) {
		t.Errorf("stored entry changed: %+v", got)
	}
}

func TestWriteCSV(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for i, label := range []string{"Nguyễn Văn Lan", "=HYPERLINK(\"x\")"} {
		if err := e.log.Record(ctx, actorIn("admin", e.root.ID).Did(trail.UserCreate, "user:"+string(rune('a'+i)), label).In(e.dept.ID)); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(time.Minute)
	}
	if err := e.log.Record(ctx, actorIn("admin", e.root.ID).Did(trail.UnitCreate, "unit:o", "STC").In(e.oth.ID)); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := e.log.WriteCSV(ctx, unitAdmin(e.prov.ID), Filter{Limit: 1}, &b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), BOM) {
		t.Fatalf("no byte order mark: %q", b.String()[:10])
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), BOM))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// Header plus the two entries in prov's subtree (the limit does not apply), newest first.
	if len(rows) != 3 || !slices.Equal(rows[0], CSVHeader) {
		t.Fatalf("rows = %q", rows)
	}
	if rows[1][5] != `'=HYPERLINK("x")` || rows[2][5] != "Nguyễn Văn Lan" || rows[2][0] != "2025-03-01T01:00:00Z" || rows[2][3] != "user.create" {
		t.Errorf("rows = %q", rows)
	}
	if !strings.Contains(b.String(), "\r\n") {
		t.Error("lines do not end in CRLF")
	}
}

// An entry about people (a graded learner) is seen by the officers of their units.
func TestRecordAddsTheUnitsOfThePeopleConcerned(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	lan, err := e.acc.CreateUser(ctx, e.admin, accounts.NewUser{Username: "lan", Password: "mật khẩu lan", FullName: "Lan", UnitID: e.dept.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.log.Record(ctx, actorIn("trainer", e.oth.ID).Did(trail.GradeEssay, "attempt:a", "").About(lan.ID, "gone")); err != nil {
		t.Fatal(err)
	}
	pg, err := e.log.List(ctx, unitAdmin(e.prov.ID), Filter{Action: "grade.essay"})
	if err != nil || pg.Total != 1 || !slices.Equal(pg.Items[0].UnitIDs, []string{e.dept.ID}) || !slices.Equal(pg.Items[0].UserIDs, []string{lan.ID, "gone"}) {
		t.Fatalf("prov's officer reads %+v, %v", pg, err)
	}
	if pg, err := e.log.List(ctx, unitAdmin(e.dept.ID), Filter{}); err != nil || pg.Total != 1 {
		t.Errorf("dept's officer reads %+v, %v", pg, err)
	}
}
