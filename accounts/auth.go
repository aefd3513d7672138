package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"hoctap/internal/database"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
	"hoctap/internal/textfold"
)

// AdminUsername is the account EnsureAdmin creates on first start.
const AdminUsername = "admin"

// LoginResult is what a successful Login returns. Token is shown to the client once and
// never stored; the server keeps only its SHA-256.
type LoginResult struct {
	Token     string    `json:"token"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

// session is a stored login. Its _id is the hex SHA-256 of the bearer token, so a leaked
// database does not leak usable tokens.
type session struct {
	ID        string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	CSRFToken string    `bson:"csrf_token"`
	CreatedAt time.Time `bson:"created_at"`
	ExpiresAt time.Time `bson:"expires_at"`
	IP        string    `bson:"ip,omitempty"`
}

// errWrongCredentials is the one answer to an unknown username and a wrong password alike.
var errWrongCredentials = fmt.Errorf("wrong username or password: %w", errs.ErrUnauthenticated)

// errNoSession is the one answer to a token that is unknown, expired or revoked.
var errNoSession = fmt.Errorf("not signed in or the session has expired: %w", errs.ErrUnauthenticated)

// tokenHash returns the stored session id of a bearer token.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// throttleKey bounds the length of a key the throttle remembers.
func throttleKey(s string) string {
	if len(s) > 128 {
		return s[:128]
	}
	return s
}

// EnsureAdmin creates the user "admin" (role admin, active, no unit) on first start, with
// password, or with a random one when password is empty; it returns created=true and the
// password so the caller can show it once. An existing "admin" is never touched
// (created=false, empty password). It returns an errs.Field("password") error for a
// password that is too short, and database errors.
func (s *Service) EnsureAdmin(ctx context.Context, password string) (bool, string, error) {
	n, err := s.users.CountDocuments(ctx, bson.M{"username": AdminUsername})
	if err != nil {
		return false, "", fmt.Errorf("accounts: look for the admin user: %w", dbErr(err))
	}
	if n > 0 {
		return false, "", nil
	}
	if password == "" {
		password = ids.Secret(12)
	} else if err := CheckPassword(password); err != nil {
		return false, "", err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return false, "", err
	}
	now := s.now()
	u := User{
		ID: ids.New(), Username: AdminUsername, FullName: "Quản trị hệ thống",
		Roles: []Role{RoleAdmin}, Active: true, Language: "vi",
		CreatedAt: now, UpdatedAt: now, PasswordHash: hash,
	}
	u.NameFold = nameFold(u.FullName, u.Username)
	if _, err := s.users.InsertOne(ctx, u); err != nil {
		if database.IsDuplicateKey(err) { // another node created it first
			return false, "", nil
		}
		return false, "", fmt.Errorf("accounts: create the admin user: %w", dbErr(err))
	}
	return true, password, nil
}

// Login checks a username and password and opens a session. ip is the client address
// ("" when unknown). It returns errs.ErrUnauthenticated ("wrong username or password") for
// an unknown username or a wrong password alike, taking the same time for both;
// errs.ErrUnauthenticated for a deactivated account (only once its password is proven);
// errs.ErrRateLimited when the username has too many recent failures (the password is then
// not checked) or when the password is wrong and the address has too many recent failures.
// A correct password is never refused because of its address: a whole office behind one
// NAT signs in for an exam in the same minute.
func (s *Service) Login(ctx context.Context, username, password, ip string) (LoginResult, error) {
	now := s.now()
	name := throttleKey(strings.ToLower(strings.TrimSpace(username)))
	ip = throttleKey(ip)
	userLimited, ipLimited := s.throttle.limited(name, ip, now, s.cfg.MaxFailuresPerUser, s.cfg.MaxFailuresPerIP)
	if userLimited {
		return LoginResult{}, fmt.Errorf("too many failed sign-ins for this user, try again in %d minutes: %w",
			int(s.cfg.FailureWindow.Round(time.Minute)/time.Minute), errs.ErrRateLimited)
	}
	u, found, err := s.userByUsername(ctx, name)
	if err != nil {
		return LoginResult{}, fmt.Errorf("accounts: login: %w", err)
	}
	hash := s.dummyHash
	if found {
		hash = u.PasswordHash
	}
	ok, err := s.verify(ctx, password, hash)
	if err != nil {
		return LoginResult{}, fmt.Errorf("accounts: login of user %s: %w", u.ID, err)
	}
	if !found || !ok {
		s.throttle.fail(name, ip, now)
		if ipLimited {
			return LoginResult{}, fmt.Errorf("too many failed sign-ins from this address, try again later: %w", errs.ErrRateLimited)
		}
		return LoginResult{}, errWrongCredentials
	}
	if !u.Active {
		return LoginResult{}, fmt.Errorf("this account is deactivated: %w", errs.ErrUnauthenticated)
	}
	token := ids.Secret(32)
	sess := session{
		ID: tokenHash(token), UserID: u.ID, CSRFToken: ids.Secret(32),
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL), IP: ip,
	}
	if _, err := s.sessions.InsertOne(ctx, sess); err != nil {
		return LoginResult{}, fmt.Errorf("accounts: open a session: %w", dbErr(err))
	}
	return LoginResult{Token: token, CSRFToken: sess.CSRFToken, ExpiresAt: sess.ExpiresAt, User: public(u)}, nil
}

// Logout revokes the session of token. Revoking an unknown or already revoked token is not
// an error. It returns only database errors.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	id := tokenHash(token)
	s.cache.remove(id)
	if _, err := s.sessions.DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return fmt.Errorf("accounts: logout: %w", dbErr(err))
	}
	// Drop it again: an Authenticate that read the session after the first remove but
	// before the delete may have cached it.
	s.cache.remove(id)
	return nil
}

// Authenticate returns the caller a bearer or cookie token belongs to. It returns
// errs.ErrUnauthenticated for an unknown, expired or revoked token and for a deactivated
// or deleted user. It runs on every request, so results are cached in memory for at most
// AuthCacheTTL (30s) and never past the session's expiry; Logout and changes to the user
// invalidate the cache of this process at once (other nodes within AuthCacheTTL).
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" || len(token) > 512 {
		return Principal{}, errNoSession
	}
	id := tokenHash(token)
	now := s.now()
	if p, ok := s.cache.get(id, now); ok {
		return p, nil
	}
	gen := s.cache.generation()
	var sess session
	if err := s.sessions.FindOne(ctx, bson.M{"_id": id}).Decode(&sess); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return Principal{}, errNoSession
		}
		return Principal{}, fmt.Errorf("accounts: authenticate: %w", dbErr(err))
	}
	if !now.Before(sess.ExpiresAt) {
		return Principal{}, errNoSession
	}
	var u User
	if err := s.users.FindOne(ctx, bson.M{"_id": sess.UserID}).Decode(&u); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return Principal{}, errNoSession
		}
		return Principal{}, fmt.Errorf("accounts: authenticate: %w", dbErr(err))
	}
	if !u.Active {
		return Principal{}, fmt.Errorf("this account is deactivated: %w", errs.ErrUnauthenticated)
	}
	p := Principal{User: public(u), SessionID: id, CSRFToken: sess.CSRFToken, ExpiresAt: sess.ExpiresAt.UTC()}
	until := now.Add(s.cfg.AuthCacheTTL)
	if sess.ExpiresAt.Before(until) {
		until = sess.ExpiresAt
	}
	s.cache.put(id, p, until, gen, now)
	return p, nil
}

// PurgeExpiredSessions deletes sessions past their expiry and returns how many. The
// server calls it now and then: TTL indexes do not work on FerretDB. Expired sessions are
// refused by Authenticate whether or not they were purged.
func (s *Service) PurgeExpiredSessions(ctx context.Context) (int64, error) {
	res, err := s.sessions.DeleteMany(ctx, bson.M{"expires_at": bson.M{"$lte": s.now()}})
	if err != nil {
		return 0, fmt.Errorf("accounts: purge sessions: %w", dbErr(err))
	}
	return res.DeletedCount, nil
}

// revokeSessions deletes every session of a user except keep ("" keeps none) and drops
// the user's cached principals.
func (s *Service) revokeSessions(ctx context.Context, userID, keep string) error {
	s.cache.removeUser(userID)
	filter := bson.M{"user_id": userID}
	if keep != "" {
		filter["_id"] = bson.M{"$ne": keep}
	}
	if _, err := s.sessions.DeleteMany(ctx, filter); err != nil {
		return fmt.Errorf("accounts: revoke sessions of user %s: %w", userID, dbErr(err))
	}
	return nil
}

// public returns u without its password hash, as every exported method returns users.
func public(u User) User {
	u.PasswordHash = ""
	u.CreatedAt = u.CreatedAt.UTC()
	u.UpdatedAt = u.UpdatedAt.UTC()
	return u
}

// nameFold is the search key of a user: the folded full name and username.
func nameFold(fullName, username string) string {
	return textfold.Fold(fullName + " " + username)
}
