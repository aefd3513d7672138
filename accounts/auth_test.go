package accounts

import (
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"hoctap/internal/clock"
	"hoctap/internal/dbtest"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

func TestLoginAndAuthenticate(t *testing.T) {
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	u := e.user(t, "nva", "Nguyễn Văn A", hn.ID)

	res, err := e.s.Login(e.ctx, "  NVA ", "mật khẩu nva", "10.0.0.1")
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if res.Token == "" || res.CSRFToken == "" || res.Token == res.CSRFToken {
		t.Fatalf("tokens %q %q", res.Token, res.CSRFToken)
	}
	if !res.ExpiresAt.Equal(testEpoch.Add(12*time.Hour)) || res.User.ID != u.ID || res.User.PasswordHash != "" {
		t.Fatalf("result %+v", res)
	}
	// Only the token's hash is stored.
	var sess bson.M
	if err := e.db.Database.Collection(SessionsCollection).FindOne(e.ctx, bson.M{}).Decode(&sess); err != nil {
		t.Fatal(err)
	}
	if sess["_id"] != tokenHash(res.Token) || sess["user_id"] != u.ID || sess["ip"] != "10.0.0.1" || sess["csrf_token"] != res.CSRFToken {
		t.Fatalf("stored session %v", sess)
	}

	p, err := e.s.Authenticate(e.ctx, res.Token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if p.User.ID != u.ID || p.CSRFToken != res.CSRFToken || p.SessionID != tokenHash(res.Token) || p.User.PasswordHash != "" ||
		!p.ExpiresAt.Equal(res.ExpiresAt) {
		t.Fatalf("principal %+v", p)
	}

	// Wrong password and unknown user: the same error, nothing stored.
	before := e.snapshot(t)
	_, errWrong := e.s.Login(e.ctx, "nva", "sai mật khẩu", "10.0.0.1")
	_, errUnknown := e.s.Login(e.ctx, "nobody", "mật khẩu nva", "10.0.0.1")
	_, errEmpty := e.s.Login(e.ctx, "", "", "")
	for _, err := range []error{errWrong, errUnknown, errEmpty} {
		wantErr(t, err, errs.ErrUnauthenticated)
		if err.Error() != errWrong.Error() || err.Error() != "wrong username or password: unauthenticated" {
			t.Errorf("error %q differs from %q", err, errWrong)
		}
	}
	e.unchanged(t, before)

	// Forged, altered and empty tokens.
	for _, tok := range []string{ids.Secret(32), res.Token + "x", res.Token[:len(res.Token)-1], "", tokenHash(res.Token), string(make([]byte, 4096))} {
		if _, err := e.s.Authenticate(e.ctx, tok); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Errorf("Authenticate(%.20q) = %v, want unauthenticated", tok, err)
		}
	}
}

func TestLogoutRevokes(t *testing.T) {
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	e.user(t, "nva", "Nguyễn Văn A", hn.ID)
	res, err := e.s.Login(e.ctx, "nva", "mật khẩu nva", "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.s.Login(e.ctx, "nva", "mật khẩu nva", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Authenticate(e.ctx, res.Token); err != nil { // now cached
		t.Fatal(err)
	}
	if err := e.s.Logout(e.ctx, res.Token); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Authenticate(e.ctx, res.Token)
	wantErr(t, err, errs.ErrUnauthenticated)
	if n, _ := e.db.Database.Collection(SessionsCollection).CountDocuments(e.ctx, bson.M{"_id": tokenHash(res.Token)}); n != 0 {
		t.Fatal("the session is still stored")
	}
	if err := e.s.Logout(e.ctx, res.Token); err != nil {
		t.Fatalf("second Logout: %v", err)
	}
	if err := e.s.Logout(e.ctx, ""); err != nil {
		t.Fatalf("empty Logout: %v", err)
	}
	if _, err := e.s.Authenticate(e.ctx, other.Token); err != nil {
		t.Fatalf("the other session was revoked too: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, Config{SessionTTL: time.Hour})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	e.user(t, "nva", "Nguyễn Văn A", hn.ID)
	res, err := e.s.Login(e.ctx, "nva", "mật khẩu nva", "")
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour - 10*time.Second)
	if _, err := e.s.Authenticate(e.ctx, res.Token); err != nil { // cached, 10 s before expiry
		t.Fatal(err)
	}
	e.clk.Advance(5 * time.Second)
	if _, err := e.s.Authenticate(e.ctx, res.Token); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(5 * time.Second) // exactly at expiry: the cache must not outlive it
	_, err = e.s.Authenticate(e.ctx, res.Token)
	wantErr(t, err, errs.ErrUnauthenticated)
	n, err := e.s.PurgeExpiredSessions(e.ctx)
	if err != nil || n != 1 {
		t.Fatalf("PurgeExpiredSessions = %d, %v", n, err)
	}
}

func TestAuthenticateCache(t *testing.T) {
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	e.user(t, "nva", "Nguyễn Văn A", hn.ID)
	res, err := e.s.Login(e.ctx, "nva", "mật khẩu nva", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Authenticate(e.ctx, res.Token); err != nil {
		t.Fatal(err)
	}
	// Remove the session behind the service's back (as another node's logout would):
	// the cache answers for at most 30 s.
	if _, err := e.db.Database.Collection(SessionsCollection).DeleteMany(e.ctx, bson.M{}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(29 * time.Second)
	if _, err := e.s.Authenticate(e.ctx, res.Token); err != nil {
		t.Fatalf("within 30 s the cache should answer: %v", err)
	}
	e.clk.Advance(time.Second)
	_, err = e.s.Authenticate(e.ctx, res.Token)
	wantErr(t, err, errs.ErrUnauthenticated)
}

func TestDeactivatedUser(t *testing.T) {
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	u := e.user(t, "nva", "Nguyễn Văn A", hn.ID)
	res, err := e.s.Login(e.ctx, "nva", "mật khẩu nva", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Authenticate(e.ctx, res.Token); err != nil {
		t.Fatal(err)
	}
	off := false
	if _, err := e.s.UpdateUser(e.ctx, e.admin, u.ID, UserPatch{Active: &off}); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Authenticate(e.ctx, res.Token)
	wantErr(t, err, errs.ErrUnauthenticated)
	before := e.snapshot(t)
	_, err = e.s.Login(e.ctx, "nva", "mật khẩu nva", "")
	wantErr(t, err, errs.ErrUnauthenticated)
	_, err = e.s.Login(e.ctx, "nva", "wrong password", "")
	if err == nil || err.Error() != errWrongCredentials.Error() {
		t.Fatalf("wrong password of a deactivated user: %v", err)
	}
	e.unchanged(t, before)
	// Reactivation does not bring the old session back.
	on := true
	if _, err := e.s.UpdateUser(e.ctx, e.admin, u.ID, UserPatch{Active: &on}); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Authenticate(e.ctx, res.Token)
	wantErr(t, err, errs.ErrUnauthenticated)
	if _, err := e.s.Login(e.ctx, "nva", "mật khẩu nva", ""); err != nil {
		t.Fatalf("login after reactivation: %v", err)
	}
}

func TestThrottlePerUser(t *testing.T) {
	e := newEnv(t, Config{MaxFailuresPerUser: 3, FailureWindow: 15 * time.Minute})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	e.user(t, "nva", "Nguyễn Văn A", hn.ID)
	e.user(t, "ttb", "Trần Thị B", hn.ID)
	for i := range 3 {
		_, err := e.s.Login(e.ctx, "nva", "guess", "10.0.0."+string(rune('1'+i)))
		wantErr(t, err, errs.ErrUnauthenticated)
	}
	before := e.snapshot(t)
	// The fourth attempt is refused without checking, even with the right password and
	// from a new address.
	_, err := e.s.Login(e.ctx, "NVA", "mật khẩu nva", "10.9.9.9")
	wantErr(t, err, errs.ErrRateLimited)
	e.unchanged(t, before)
	// Other users are not affected.
	if _, err := e.s.Login(e.ctx, "ttb", "mật khẩu ttb", "10.0.0.1"); err != nil {
		t.Fatalf("other user: %v", err)
	}
	// Unknown usernames are throttled alike, so throttling does not reveal who exists.
	for range 3 {
		_, err := e.s.Login(e.ctx, "ghost", "guess", "")
		wantErr(t, err, errs.ErrUnauthenticated)
	}
	_, err = e.s.Login(e.ctx, "ghost", "guess", "")
	wantErr(t, err, errs.ErrRateLimited)
	// After the window the user may sign in again.
	e.clk.Advance(15 * time.Minute)
	if _, err := e.s.Login(e.ctx, "nva", "mật khẩu nva", "10.0.0.1"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestThrottlePerIPLetsCorrectPasswordsThrough(t *testing.T) {
	e := newEnv(t, Config{MaxFailuresPerUser: 100, MaxFailuresPerIP: 3})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	e.user(t, "nva", "Nguyễn Văn A", hn.ID)
	e.user(t, "ttb", "Trần Thị B", hn.ID)
	const office = "203.0.113.7"
	for _, name := range []string{"nva", "ttb", "someone"} {
		_, err := e.s.Login(e.ctx, name, "guess", office)
		wantErr(t, err, errs.ErrUnauthenticated)
	}
	// The address is over its limit: wrong passwords are now rate limited...
	_, err := e.s.Login(e.ctx, "nva", "guess", office)
	wantErr(t, err, errs.ErrRateLimited)
	_, err = e.s.Login(e.ctx, "unknown", "guess", office)
	wantErr(t, err, errs.ErrRateLimited)
	// ...but the whole office still signs in with correct passwords.
	for range 5 {
		if _, err := e.s.Login(e.ctx, "ttb", "mật khẩu ttb", office); err != nil {
			t.Fatalf("correct password from a throttled address: %v", err)
		}
	}
	if _, err := e.s.Login(e.ctx, "nva", "mật khẩu nva", office); err != nil {
		t.Fatalf("correct password from a throttled address: %v", err)
	}
	// Another address is unaffected.
	_, err = e.s.Login(e.ctx, "nva", "guess", "198.51.100.1")
	wantErr(t, err, errs.ErrUnauthenticated)
}

func TestEnsureAdmin(t *testing.T) {
	e := newEnv(t, Config{})
	before := e.snapshot(t)
	_, _, err := e.s.EnsureAdmin(e.ctx, "short")
	wantField(t, err, "password")
	e.unchanged(t, before)

	created, pw, err := e.s.EnsureAdmin(e.ctx, "")
	if err != nil || !created || len(pw) < MinPasswordLen {
		t.Fatalf("EnsureAdmin = %v, %q, %v", created, pw, err)
	}
	res, err := e.s.Login(e.ctx, "admin", pw, "")
	if err != nil {
		t.Fatalf("login as admin: %v", err)
	}
	if !res.User.Has(RoleAdmin) || !res.User.Active {
		t.Fatalf("admin user %+v", res.User)
	}
	before = e.snapshot(t)
	created, pw2, err := e.s.EnsureAdmin(e.ctx, "another password")
	if err != nil || created || pw2 != "" {
		t.Fatalf("second EnsureAdmin = %v, %q, %v", created, pw2, err)
	}
	e.unchanged(t, before)
	if _, err := e.s.Login(e.ctx, "admin", pw, ""); err != nil {
		t.Fatalf("the admin password was reset: %v", err)
	}
}

func TestEnsureAdminGivenPassword(t *testing.T) {
	e := newEnv(t, Config{})
	created, pw, err := e.s.EnsureAdmin(e.ctx, "given password")
	if err != nil || !created || pw != "given password" {
		t.Fatalf("EnsureAdmin = %v, %q, %v", created, pw, err)
	}
	if _, err := e.s.Login(e.ctx, "admin", "given password", ""); err != nil {
		t.Fatal(err)
	}
}

func TestChangeOwnPassword(t *testing.T) {
	e := newEnv(t, Config{MaxFailuresPerUser: 3})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	u := e.user(t, "nva", "Nguyễn Văn A", hn.ID)
	s1, err := e.s.Login(e.ctx, "nva", "mật khẩu nva", "")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := e.s.Login(e.ctx, "nva", "mật khẩu nva", "")
	if err != nil {
		t.Fatal(err)
	}
	me, err := e.s.Authenticate(e.ctx, s1.Token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Authenticate(e.ctx, s2.Token); err != nil { // cached
		t.Fatal(err)
	}
	newPw, wrong, short := "mật khẩu mới", "not it at all", "short"
	before := e.snapshot(t)
	_, err = e.s.UpdateUser(e.ctx, me, u.ID, UserPatch{Password: &newPw})
	wantField(t, err, "current_password")
	_, err = e.s.UpdateUser(e.ctx, me, u.ID, UserPatch{Password: &newPw, CurrentPassword: &wrong})
	wantField(t, err, "current_password")
	_, err = e.s.UpdateUser(e.ctx, me, u.ID, UserPatch{Password: &short, CurrentPassword: &wrong})
	wantField(t, err, "password")
	// A learner may not change their own name or roles.
	name := "Tên khác"
	_, err = e.s.UpdateUser(e.ctx, me, u.ID, UserPatch{FullName: &name})
	wantErr(t, err, errs.ErrForbidden)
	e.unchanged(t, before)

	cur := "mật khẩu nva"
	if _, err := e.s.UpdateUser(e.ctx, me, u.ID, UserPatch{Password: &newPw, CurrentPassword: &cur}); err != nil {
		t.Fatalf("change password: %v", err)
	}
	if _, err := e.s.Authenticate(e.ctx, s1.Token); err != nil {
		t.Fatalf("the session that changed the password was revoked: %v", err)
	}
	_, err = e.s.Authenticate(e.ctx, s2.Token)
	wantErr(t, err, errs.ErrUnauthenticated)
	_, err = e.s.Login(e.ctx, "nva", "mật khẩu nva", "")
	wantErr(t, err, errs.ErrUnauthenticated)
	if _, err := e.s.Login(e.ctx, "nva", newPw, ""); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	// An admin resets it without the current one and every session ends.
	reset := "đặt lại mật khẩu"
	if _, err := e.s.UpdateUser(e.ctx, e.admin, u.ID, UserPatch{Password: &reset}); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Authenticate(e.ctx, s1.Token)
	wantErr(t, err, errs.ErrUnauthenticated)
	if _, err := e.s.Login(e.ctx, "nva", reset, ""); err != nil {
		t.Fatal(err)
	}
}

// TestAuthenticateRacesDeactivation checks that requests in flight while a user is
// deactivated cannot leave a stale principal in the cache.
func TestAuthenticateRacesDeactivation(t *testing.T) {
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	u := e.user(t, "nva", "Nguyễn Văn A", hn.ID)
	res, err := e.s.Login(e.ctx, "nva", "mật khẩu nva", "")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := e.s.Authenticate(e.ctx, res.Token)
				if err != nil && !errors.Is(err, errs.ErrUnauthenticated) {
					t.Error(err)
					return
				}
			}
		})
	}
	off := false
	if _, err := e.s.UpdateUser(e.ctx, e.admin, u.ID, UserPatch{Active: &off}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // let in-flight requests finish against the new state
	close(stop)
	wg.Wait()
	_, err = e.s.Authenticate(e.ctx, res.Token)
	wantErr(t, err, errs.ErrUnauthenticated)
}

func BenchmarkAuthenticate(b *testing.B) {
	db := dbtest.New(b)
	s := NewService(db.Database, Config{Argon2: cheapArgon}, clock.System)
	ctx := b.Context()
	if err := s.EnsureIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	unit, err := s.CreateUnit(ctx, Principal{User: User{Roles: []Role{RoleAdmin}}}, NewUnit{Name: "Hà Nội", Code: "HN"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, Principal{User: User{Roles: []Role{RoleAdmin}}}, NewUser{Username: "nva", Password: "mật khẩu nva", FullName: "Nguyễn Văn A", UnitID: unit.ID}); err != nil {
		b.Fatal(err)
	}
	res, err := s.Login(ctx, "nva", "mật khẩu nva", "")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Authenticate(ctx, res.Token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		for b.Loop() {
			s.cache.remove(tokenHash(res.Token))
			if _, err := s.Authenticate(ctx, res.Token); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkLoginDefaultArgon2(b *testing.B) {
	db := dbtest.New(b)
	s := NewService(db.Database, Config{MaxFailuresPerUser: 1 << 30, MaxFailuresPerIP: 1 << 30}, clock.System)
	for b.Loop() {
		if _, err := s.Login(b.Context(), "nobody", "wrong password", ""); !errors.Is(err, errs.ErrUnauthenticated) {
			b.Fatal(err)
		}
	}
}
