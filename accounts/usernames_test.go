package accounts

import (
	"testing"
	"time"
)

// The username index is a hint: a sign-in still finds a user it does not list (created
// by another process since the last reload) or lists under a wrong id, and an unknown
// username is refused as before.
func TestSignInThroughTheUsernameIndex(t *testing.T) {
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	a := e.user(t, "nva", "Nguyễn Văn A", hn.ID)
	login := func(username, password string) (LoginResult, error) {
		t.Helper()
		return e.s.Login(e.ctx, username, password, "10.0.0.1")
	}
	if res, err := login("nva", "mật khẩu nva"); err != nil || res.User.ID != a.ID {
		t.Fatalf("first sign-in (loads the index): %+v %v", res, err)
	}
	if id, ok := e.s.usernames.get("nva"); !ok || id != a.ID {
		t.Fatalf("index after the first sign-in: %q %v", id, ok)
	}

	// Created after the reload, within the reload interval: found by a query.
	b := e.user(t, "ttb", "Trần Thị B", hn.ID)
	if res, err := login("ttb", "mật khẩu ttb"); err != nil || res.User.ID != b.ID {
		t.Fatalf("sign-in of a user the index does not list: %+v %v", res, err)
	}
	// A wrong hint is checked against the stored username and corrected.
	e.s.usernames.put("nva", b.ID)
	if res, err := login("nva", "mật khẩu nva"); err != nil || res.User.ID != a.ID {
		t.Fatalf("sign-in through a wrong hint: %+v %v", res, err)
	}
	if id, _ := e.s.usernames.get("nva"); id != a.ID {
		t.Fatalf("wrong hint not corrected: %q", id)
	}
	// Unknown usernames are refused, whether or not a reload is due.
	_, err := login("nobody", "x")
	wantErr(t, err, errWrongCredentials)
	e.clk.Advance(usernameReloadEvery + time.Second)
	_, err = login("nobody2", "x")
	wantErr(t, err, errWrongCredentials)
}
