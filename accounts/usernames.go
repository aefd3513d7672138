package accounts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// usernameReloadEvery bounds how often a sign-in with a username the index does not know
// reloads the whole index; between reloads such sign-ins query by username.
const usernameReloadEvery = 10 * time.Second

// usernameIndex maps usernames to user ids, so that a sign-in reads its user by _id:
// the embedded FerretDB answers that from an index, but scans every user for a query by
// username (60 ms per sign-in at 5,000 users, all of it on the one database connection
// while a province signs in for an exam). It is only a hint: userByUsername checks the
// username of the user it reads, and usernames never change.
type usernameIndex struct {
	mu       sync.Mutex
	ids      map[string]string
	loadedAt time.Time
	loading  chan struct{} // closed when the running reload ends; nil when none runs
}

func newUsernameIndex() *usernameIndex { return &usernameIndex{ids: map[string]string{}} }

func (x *usernameIndex) get(username string) (string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	id, ok := x.ids[username]
	return id, ok
}

func (x *usernameIndex) put(username, id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.ids[username] = id
}

// userByUsername returns the user with this (lower-case) username; found is false when
// there is none. Errors wrap ErrUnavailable.
func (s *Service) userByUsername(ctx context.Context, username string) (u User, found bool, err error) {
	id, ok := s.usernames.get(username)
	if !ok {
		if err := s.reloadUsernames(ctx); err != nil {
			return User{}, false, err
		}
		id, ok = s.usernames.get(username)
	}
	if ok {
		err := s.users.FindOne(ctx, bson.M{"_id": id}).Decode(&u)
		if err == nil && u.Username == username {
			return u, true, nil
		}
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return User{}, false, dbErr(err)
		}
	}
	err = s.users.FindOne(ctx, bson.M{"username": username}).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, dbErr(err)
	}
	s.usernames.put(username, u.ID)
	return u, true, nil
}

// reloadUsernames reads every username into the index, unless a reload ended less than
// usernameReloadEvery ago; callers arriving during a reload wait for it instead of
// starting their own. Errors wrap ErrUnavailable.
func (s *Service) reloadUsernames(ctx context.Context) error {
	x := s.usernames
	x.mu.Lock()
	if wait := x.loading; wait != nil {
		x.mu.Unlock()
		select {
		case <-wait:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("accounts: load usernames: %w", dbErr(ctx.Err()))
		}
	}
	if !x.loadedAt.IsZero() && s.now().Sub(x.loadedAt) < usernameReloadEvery {
		x.mu.Unlock()
		return nil
	}
	done := make(chan struct{})
	x.loading = done
	x.mu.Unlock()
	ids, err := s.allUsernames(ctx)
	x.mu.Lock()
	x.loading = nil
	if err == nil {
		x.ids, x.loadedAt = ids, s.now()
	}
	x.mu.Unlock()
	close(done)
	return err
}

func (s *Service) allUsernames(ctx context.Context) (map[string]string, error) {
	cur, err := s.users.Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"_id": 1, "username": 1}))
	if err != nil {
		return nil, fmt.Errorf("accounts: load usernames: %w", dbErr(err))
	}
	var list []struct {
		ID       string `bson:"_id"`
		Username string `bson:"username"`
	}
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("accounts: load usernames: %w", dbErr(err))
	}
	ids := make(map[string]string, len(list))
	for _, u := range list {
		ids[u.Username] = u.ID
	}
	return ids, nil
}
