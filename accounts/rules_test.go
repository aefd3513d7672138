package accounts

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"hoctap/internal/errs"
)

func TestNormalizeUsername(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"nguyenvana", "nguyenvana", true},
		{"  NguyenVanA  ", "nguyenvana", true},
		{"a.b_c-d9", "a.b_c-d9", true},
		{"abc", "abc", true},
		{"ab", "", false},
		{strings.Repeat("a", 64), strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), "", false},
		{"nguyễn", "", false},
		{"has space", "", false},
		{"semi;colon", "", false},
		{"", "", false},
		{"user@host", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeUsername(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("NormalizeUsername(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil {
			var fe *errs.FieldError
			if !errors.As(err, &fe) || fe.Fields["username"] == "" || !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("NormalizeUsername(%q) error %v is not a username field error", tt.in, err)
			}
		}
	}
}

func TestManages(t *testing.T) {
	province := Unit{ID: "p", Path: []string{}}
	dept := Unit{ID: "d", ParentID: "p", Path: []string{"p"}}
	commune := Unit{ID: "c", ParentID: "d", Path: []string{"p", "d"}}
	other := Unit{ID: "o", Path: []string{}}
	tests := []struct {
		name string
		u    User
		unit Unit
		want bool
	}{
		{"admin manages anything", User{Roles: []Role{RoleAdmin}}, other, true},
		{"learner manages nothing", User{Roles: []Role{RoleLearner}, UnitID: "p"}, province, false},
		{"lecturer manages nothing", User{Roles: []Role{RoleLecturer}, UnitID: "p"}, province, false},
		{"unit_admin own unit by default", User{Roles: []Role{RoleUnitAdmin}, UnitID: "d"}, dept, true},
		{"unit_admin below own unit", User{Roles: []Role{RoleUnitAdmin}, UnitID: "d"}, commune, true},
		{"unit_admin not above own unit", User{Roles: []Role{RoleUnitAdmin}, UnitID: "d"}, province, false},
		{"unit_admin not a sibling tree", User{Roles: []Role{RoleUnitAdmin}, UnitID: "d"}, other, false},
		{"admin units replace own unit", User{Roles: []Role{RoleUnitAdmin}, UnitID: "d", AdminUnitIDs: []string{"o"}}, dept, false},
		{"admin units scope", User{Roles: []Role{RoleUnitAdmin}, UnitID: "d", AdminUnitIDs: []string{"o", "p"}}, commune, true},
		{"admin unit itself", User{Roles: []Role{RoleUnitAdmin}, AdminUnitIDs: []string{"o"}}, other, true},
		{"unit_admin without unit", User{Roles: []Role{RoleUnitAdmin}}, province, false},
		{"unit_admin with empty unit vs empty id", User{Roles: []Role{RoleUnitAdmin}}, Unit{}, false},
		{"admin ids of a learner count for nothing", User{Roles: []Role{RoleLearner}, AdminUnitIDs: []string{"p"}}, province, false},
	}
	for _, tt := range tests {
		if got := Manages(tt.u, tt.unit); got != tt.want {
			t.Errorf("%s: Manages = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCanAdminister(t *testing.T) {
	units := map[string]Unit{
		"p": {ID: "p", Path: []string{}},
		"d": {ID: "d", ParentID: "p", Path: []string{"p"}},
		"o": {ID: "o", Path: []string{}},
	}
	ua := User{ID: "ua", Roles: []Role{RoleUnitAdmin}, UnitID: "p"}
	tests := []struct {
		name          string
		actor, target User
		want          bool
	}{
		{"admin changes an admin", User{Roles: []Role{RoleAdmin}}, User{Roles: []Role{RoleAdmin}}, true},
		{"unit_admin changes learner in scope", ua, User{Roles: []Role{RoleLearner}, UnitID: "d"}, true},
		{"unit_admin not outside scope", ua, User{Roles: []Role{RoleLearner}, UnitID: "o"}, false},
		{"unit_admin never an admin", ua, User{Roles: []Role{RoleAdmin}, UnitID: "d"}, false},
		{"unit_admin changes a unit_admin below", ua, User{Roles: []Role{RoleUnitAdmin}, UnitID: "d"}, true},
		{"unit_admin not one managing elsewhere", ua, User{Roles: []Role{RoleUnitAdmin}, UnitID: "d", AdminUnitIDs: []string{"o"}}, false},
		{"unknown unit", ua, User{Roles: []Role{RoleLearner}, UnitID: "x"}, false},
		{"trainer changes nobody", User{Roles: []Role{RoleTrainer}, UnitID: "p"}, User{Roles: []Role{RoleLearner}, UnitID: "d"}, false},
	}
	for _, tt := range tests {
		if got := CanAdminister(tt.actor, tt.target, units); got != tt.want {
			t.Errorf("%s: CanAdminister = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseRoles(t *testing.T) {
	tests := []struct {
		in   string
		want []Role
		ok   bool
	}{
		{"", nil, true},
		{"learner", []Role{RoleLearner}, true},
		{"Trainer|lecturer", []Role{RoleLecturer, RoleTrainer}, true},
		{"trainer lecturer trainer", []Role{RoleLecturer, RoleTrainer}, true},
		{"unit_admin, learner", []Role{RoleUnitAdmin, RoleLearner}, true},
		{"boss", nil, false},
	}
	for _, tt := range tests {
		got, err := parseRoles(tt.in)
		if tt.ok != (err == nil) || !slices.Equal(got, tt.want) {
			t.Errorf("parseRoles(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"1234567", false}, {"12345678", true}, {"mậtkhẩu1", true}, {"ngắn", false},
		{strings.Repeat("x", MaxPasswordLen), true}, {strings.Repeat("x", MaxPasswordLen+1), false},
	} {
		err := CheckPassword(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("CheckPassword(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
		if err != nil && !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("CheckPassword(%q) error %v is not invalid", tt.in, err)
		}
	}
}

var cheapArgon = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestPasswordHash(t *testing.T) {
	h := HashPassword("đúng mật khẩu", cheapArgon)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not PHC argon2id", h)
	}
	if h2 := HashPassword("đúng mật khẩu", cheapArgon); h2 == h {
		t.Error("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		password, hash string
		ok, err        bool
	}{
		{"đúng mật khẩu", h, true, false},
		{"dung mat khau", h, false, false},
		{"", h, false, false},
		{"x", "", false, true},
		{"x", "$argon2i$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", false, true},
		{"x", "$argon2id$v=19$m=99999999,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false, true},
		{"x", "$argon2id$v=19$m=64,t=1,p=1$!!!$AAAA", false, true},
		{"x", strings.Replace(h, "v=19", "v=16", 1), false, true},
	}
	for i, tt := range tests {
		ok, err := VerifyPassword(tt.password, tt.hash)
		if ok != tt.ok || (err != nil) != tt.err {
			t.Errorf("%d: VerifyPassword = %v, %v; want %v, err=%v", i, ok, err, tt.ok, tt.err)
		}
	}
	// The default parameters verify too (one real-cost hash).
	d := HashPassword("mật khẩu mặc định", DefaultArgon2)
	if ok, err := VerifyPassword("mật khẩu mặc định", d); !ok || err != nil {
		t.Errorf("default-cost hash does not verify: %v %v", ok, err)
	}
}

func TestThrottleWindowAndBounds(t *testing.T) {
	th := newThrottle(testWindow)
	now := testEpoch
	for range 3 {
		th.fail("u", "1.2.3.4", now)
	}
	if u, ip := th.limited("u", "1.2.3.4", now, 3, 4); !u || ip {
		t.Fatalf("after 3 failures: user=%v ip=%v, want true false", u, ip)
	}
	if u, _ := th.limited("u", "", now.Add(testWindow), 3, 4); u {
		t.Fatal("the window did not end")
	}
	// A flood of distinct keys stays bounded.
	for i := range maxThrottleKeys + 10 {
		th.fail(string(rune(i)), "", now)
	}
	if n := len(th.users); n > maxThrottleKeys+1 {
		t.Fatalf("throttle holds %d users, bound %d", n, maxThrottleKeys)
	}
}

func TestAuthCacheBounds(t *testing.T) {
	c := newAuthCache(16)
	for i := range 100 {
		c.put(string(rune('a'+i)), Principal{}, testEpoch.Add(testWindow), c.generation(), testEpoch)
	}
	if n := c.len(); n > 16 {
		t.Fatalf("cache holds %d entries, bound 16", n)
	}
	gen := c.generation()
	c.removeUser("someone")
	c.put("late", Principal{}, testEpoch.Add(testWindow), gen, testEpoch)
	if _, ok := c.get("late", testEpoch); ok {
		t.Fatal("a result read before an invalidation was cached")
	}
}

var testEpoch = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

const testWindow = 15 * time.Minute
