package accounts

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/dbtest"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

// env is one test's service over a fresh database with a settable clock.
type env struct {
	s     *Service
	db    *database.DB
	clk   *clock.Fixed
	ctx   context.Context
	admin Principal
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	db := dbtest.New(t)
	if cfg.Argon2 == (Argon2Params{}) {
		cfg.Argon2 = cheapArgon
	}
	clk := clock.NewFixed(testEpoch)
	s := NewService(db.Database, cfg, clk.Now)
	ctx := t.Context()
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	return &env{s: s, db: db, clk: clk, ctx: ctx,
		admin: Principal{User: User{ID: ids.New(), Username: "root", Roles: []Role{RoleAdmin}, Active: true}}}
}

// snapshot renders every document of the package's collections, so a test can prove that
// bad input changed nothing.
func (e *env) snapshot(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, name := range []string{UsersCollection, UnitsCollection, SessionsCollection} {
		cur, err := e.db.Database.Collection(name).Find(e.ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			t.Fatalf("snapshot %s: %v", name, err)
		}
		var docs []bson.Raw
		if err := cur.All(e.ctx, &docs); err != nil {
			t.Fatalf("snapshot %s: %v", name, err)
		}
		b.WriteString(name + ":\n")
		for _, d := range docs {
			b.WriteString(d.String() + "\n")
		}
	}
	return b.String()
}

// unchanged fails the test when the database differs from before.
func (e *env) unchanged(t *testing.T, before string) {
	t.Helper()
	if after := e.snapshot(t); after != before {
		t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
	}
}

func (e *env) unit(t *testing.T, actor Principal, name, code, parent string) Unit {
	t.Helper()
	u, err := e.s.CreateUnit(e.ctx, actor, NewUnit{Name: name, Code: code, ParentID: parent})
	if err != nil {
		t.Fatalf("CreateUnit %s: %v", code, err)
	}
	return u
}

func (e *env) user(t *testing.T, username, fullName, unitID string, roles ...Role) User {
	t.Helper()
	u, err := e.s.CreateUser(e.ctx, e.admin, NewUser{Username: username, Password: "mật khẩu " + username,
		FullName: fullName, UnitID: unitID, Roles: roles})
	if err != nil {
		t.Fatalf("CreateUser %s: %v", username, err)
	}
	return u
}

func as(u User) Principal { return Principal{User: u} }

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *errs.FieldError
	if !errors.As(err, &fe) || !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("err = %v, want an invalid error naming %q", err, field)
	}
	if _, ok := fe.Fields[field]; !ok {
		t.Fatalf("err = %v, want it to name the field %q", err, field)
	}
}

func usernames(us []User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Username
	}
	return out
}

func sortedIDs(ids []string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}
