package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// staffCSV is a staff list of the n people of unit code with usernames prefix0000…, named
// name and their number.
func staffCSV(prefix, unitCode, name string, n int) []byte {
	var b strings.Builder
	b.WriteString("username,full_name,unit_code,position\n")
	for i := range n {
		fmt.Fprintf(&b, "%s%04d,%s %d,%s,Chuyên viên\n", prefix, i, name, i, unitCode)
	}
	return []byte(b.String())
}

type importAnswer struct {
	Created, Updated int
	Errors           []struct {
		Line    int
		Message string
	}
	GeneratedPasswords []struct{ Username, Password string } `json:"generated_passwords"`
}

// storedUser is a users document as the database holds it.
type storedUser struct {
	ID           string `bson:"_id"`
	Username     string `bson:"username"`
	FullName     string `bson:"full_name"`
	UnitID       string `bson:"unit_id"`
	Roles        []string
	Active       bool      `bson:"active"`
	PasswordHash string    `bson:"password_hash"`
	NameFold     string    `bson:"name_fold"`
	CreatedAt    time.Time `bson:"created_at"`
}

// checkWholeUsers fails unless every user document of the unit is whole (hash, unit, name,
// roles, creation time) and no username is stored twice; it returns the stored usernames.
func checkWholeUsers(t *testing.T, db *mongo.Database, unitID string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	cur, err := db.Collection("users").Find(ctx, bson.M{"unit_id": unitID})
	if err != nil {
		t.Fatal(err)
	}
	var users []storedUser
	if err := cur.All(ctx, &users); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, u := range users {
		if names[u.Username] {
			t.Errorf("username %s is stored twice", u.Username)
		}
		names[u.Username] = true
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || u.FullName == "" || u.NameFold == "" ||
			len(u.Roles) == 0 || !u.Active || u.CreatedAt.IsZero() {
			t.Errorf("a half-written user: %+v", u)
		}
	}
	// No user of the import may have landed outside the unit either.
	all, err := db.Collection("users").CountDocuments(ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	if others, err := db.Collection("users").CountDocuments(ctx, bson.M{"unit_id": bson.M{"$ne": unitID}}); err != nil || others+int64(len(users)) != all {
		t.Fatalf("users outside the unit: %d of %d (%v)", others, all, err)
	}
	return names
}

// testUserImportSurvivesSIGKILL kills the server while it imports staff lists, at several
// moments (while it hashes the generated passwords of the users to create, around the end
// of such an import, in the middle of one that renames users), and restarts it on the
// same data each time: every user of an acknowledged import is still there and can sign
// in; a killed import left only whole users (password hash, unit, name, roles), each
// renamed wholly or not at all (its search key follows its name), never a username twice;
// and running the killed lists again completes: what the kill stored counts as updated,
// the rest is created, nothing is doubled.
func testUserImportSurvivesSIGKILL(t *testing.T, bin string) {
	cs := newCrashServer(t, bin)
	admin := token(t, cs.addr, "admin", "admin-password-1")
	var unit struct{ ID string }
	api(t, cs.addr, "POST", "/api/v1/units", admin, map[string]any{"name": "Sở Tài chính", "code": "STC"}, 201, &unit)
	client := &http.Client{Timeout: 2 * time.Minute}
	importCSV := func(csv []byte) (importAnswer, time.Duration) {
		t.Helper()
		var a importAnswer
		begin := time.Now()
		status, raw, err := send(client, cs.addr, "POST", "/api/v1/users/import", admin, "text/csv", csv)
		if err != nil || status != 200 || json.Unmarshal(raw, &a) != nil || len(a.Errors) > 0 {
			t.Fatalf("import: %d %v %.300s", status, err, raw)
		}
		return a, time.Since(begin)
	}
	// named counts the users whose name matches q, ignoring diacritics (-1 on failure).
	named := func(q string) int {
		var page struct{ Total int }
		code, raw, err := try(client, cs.addr, "GET", "/api/v1/users?limit=1&q="+strings.ReplaceAll(q, " ", "+"), admin, nil)
		if err != nil || code != 200 || json.Unmarshal(raw, &page) != nil {
			return -1
		}
		return page.Total
	}
	// killDuring starts an import of csv, kills the server once wait returns, inspects the
	// data the kill left with check, and starts the server again.
	killDuring := func(name string, csv []byte, wait func(finished <-chan struct{}), check func(db *mongo.Database)) {
		t.Helper()
		answered, finished := make(chan int, 1), make(chan struct{})
		go func() {
			status, _, _ := send(client, cs.addr, "POST", "/api/v1/users/import", admin, "text/csv", csv)
			answered <- status
			close(finished)
		}()
		wait(finished)
		cs.kill(t)
		if status := <-answered; status == 200 {
			t.Logf("%s: the import was answered before the kill", name)
		}
		cs.inspect(t, check)
		cs.start(t)
		admin = token(t, cs.addr, "admin", "admin-password-1")
	}

	// An acknowledged import, which also tells how long such an import takes here.
	const rows, renamed = 400, 250
	acked, took := importCSV(staffCSV("ack", "STC", "Nguyễn Văn", rows))
	if acked.Created != rows || len(acked.GeneratedPasswords) != rows {
		t.Fatalf("the first import: %+v", acked)
	}
	t.Logf("an import creating %d users takes %v here", rows, took)
	ackedStored := func(names map[string]bool) {
		for i := range rows {
			if !names[fmt.Sprintf("ack%04d", i)] {
				t.Fatalf("ack%04d of the acknowledged import is gone", i)
			}
		}
	}

	// Imports that create users, killed while hashing and around their end.
	creates := []struct {
		name   string
		wait   time.Duration
		stored int
	}{{"k1", took / 3, 0}, {"k2", took, 0}}
	for r := range creates {
		c := &creates[r]
		killDuring(c.name, staffCSV(c.name, "STC", "Nguyễn Văn", rows), func(<-chan struct{}) { time.Sleep(c.wait) }, func(db *mongo.Database) {
			names := checkWholeUsers(t, db, unit.ID)
			ackedStored(names)
			for i := range rows {
				if names[fmt.Sprintf("%s%04d", c.name, i)] {
					c.stored++
				}
			}
		})
		t.Logf("import %s killed after %v: %d of its %d users stored", c.name, c.wait, c.stored, rows)
	}

	// An acknowledged import that renames some users, then one that renames them again,
	// killed once its first renames are visible: its updates go in small batches.
	if a, _ := importCSV(staffCSV("ack", "STC", "Trần Thị Hoa", renamed)); a.Updated != renamed || a.Created != 0 {
		t.Fatalf("the renaming import: %+v", a)
	}
	moved := 0
	killDuring("rename", staffCSV("ack", "STC", "Lê Thị Lan", renamed), func(finished <-chan struct{}) {
		for named("le thi lan") < 1 {
			select {
			case <-finished:
				return
			default:
			}
		}
	}, func(db *mongo.Database) {
		ackedStored(checkWholeUsers(t, db, unit.ID))
		cur, err := db.Collection("users").Find(context.Background(), bson.M{"username": bson.M{"$regex": "^ack"}})
		if err != nil {
			t.Fatal(err)
		}
		var users []storedUser
		if err := cur.All(context.Background(), &users); err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			var i int
			fmt.Sscanf(u.Username, "ack%04d", &i)
			old, acked, next := fmt.Sprintf("Nguyễn Văn %d", i), fmt.Sprintf("Trần Thị Hoa %d", i), fmt.Sprintf("Lê Thị Lan %d", i)
			switch {
			case i >= renamed && u.FullName == old && strings.Contains(u.NameFold, "nguyen van"):
			case i < renamed && u.FullName == acked && strings.Contains(u.NameFold, "tran thi hoa"):
			case i < renamed && u.FullName == next && strings.Contains(u.NameFold, "le thi lan"):
				moved++
			default:
				t.Errorf("%s is half renamed or lost its acknowledged name: %q (search key %q)", u.Username, u.FullName, u.NameFold)
			}
		}
	})
	t.Logf("the import renaming %d users was killed after %d renames", renamed, moved)

	// After the restarts: an imported user signs in with the password the import gave.
	gp := acked.GeneratedPasswords[rows/2]
	if got := login(t, cs.addr, gp.Username, gp.Password); got != 200 {
		t.Errorf("user %s of the acknowledged import cannot sign in after the restarts: %d", gp.Username, got)
	}
	// Running each killed list again completes, whatever the kill left.
	for _, c := range creates {
		a, _ := importCSV(staffCSV(c.name, "STC", "Nguyễn Văn", rows))
		if a.Created != rows-c.stored || a.Updated != c.stored {
			t.Errorf("running list %s again: created %d updated %d; the kill had left %d", c.name, a.Created, a.Updated, c.stored)
		}
	}
	if a, _ := importCSV(staffCSV("ack", "STC", "Lê Thị Lan", renamed)); a.Updated != renamed || a.Created != 0 {
		t.Errorf("running the renaming again: %+v", a)
	}
	if got := named("le thi lan"); got != renamed {
		t.Errorf("%d users renamed, want %d", got, renamed)
	}
	want := rows * (1 + len(creates))
	var page struct{ Total int }
	api(t, cs.addr, "GET", "/api/v1/users?unit_id="+unit.ID+"&limit=1", admin, nil, 200, &page)
	if page.Total != want {
		t.Errorf("the unit has %d users, want %d", page.Total, want)
	}
	cs.kill(t)
	cs.inspect(t, func(db *mongo.Database) {
		if n := len(checkWholeUsers(t, db, unit.ID)); n != want {
			t.Errorf("%d distinct users stored, want %d", n, want)
		}
	})
}
