package database

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestIndexIDLookupsServesIDFiltersFromAnIndex checks the query plan SQLite makes for
// the statement FerretDB sends for `{_id: x}`: a scan before IndexIDLookups, the index
// after. Should a FerretDB upgrade change its expression, this test fails instead of
// every lookup quietly scanning again.
func TestIndexIDLookupsServesIDFiltersFromAnIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	if err := db.IndexIDLookups(ctx); err != nil { // no collection yet
		t.Fatalf("empty database: %v", err)
	}
	c := db.Database.Collection("things")
	var docs []any
	for i := range 50 {
		docs = append(docs, bson.M{"_id": fmt.Sprintf("%024x", i), "n": i})
	}
	if _, err := c.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	plan := func() string {
		t.Helper()
		sq, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "db", "hoctap.sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		defer sq.Close()
		tables, err := ferretTables(ctx, sq)
		if err != nil || len(tables) != 1 {
			t.Fatalf("tables %v, %v", tables, err)
		}
		rows, err := sq.QueryContext(ctx, fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE %s = ?`, tables[0], idExpr), `"x"`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			b.WriteString(detail + "\n")
		}
		return b.String()
	}
	if p := plan(); !strings.Contains(p, "SCAN") {
		t.Fatalf("before: FerretDB's own _id index already serves the lookup (%q): IndexIDLookups is no longer needed", p)
	}
	for range 2 { // idempotent
		if err := db.IndexIDLookups(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if p := plan(); !strings.Contains(p, "USING INDEX") || !strings.Contains(p, "_hoctap_id_lookup") {
		t.Fatalf("after: the lookup does not use the index: %q", p)
	}
	// Lookups, updates and deletes by _id still find the right document.
	id := fmt.Sprintf("%024x", 7)
	if _, err := c.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"n": 700}}); err != nil {
		t.Fatal(err)
	}
	var got struct{ N int }
	if err := c.FindOne(ctx, bson.M{"_id": id}).Decode(&got); err != nil || got.N != 700 {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	if res, err := c.DeleteOne(ctx, bson.M{"_id": id}); err != nil || res.DeletedCount != 1 {
		t.Fatalf("delete: %+v, %v", res, err)
	}
	if n, err := c.CountDocuments(ctx, bson.M{}); err != nil || n != 49 {
		t.Fatalf("count %d, %v", n, err)
	}
}

func TestFindByIDsReadsFewOneByOneAndManyAtOnce(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	c := db.Database.Collection("things")
	var docs []any
	var all []string
	for i := range 40 {
		id := fmt.Sprintf("%024x", i)
		all = append(all, id)
		docs = append(docs, bson.M{"_id": id, "n": i})
	}
	if _, err := c.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	type thing struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	missing := fmt.Sprintf("%024x", 999)
	for _, ids := range [][]string{
		nil,
		{all[3]},
		{all[3], all[3], missing, all[7]},  // few: one by one, duplicates and missing skipped
		append(slices.Clone(all), missing), // many: one $in
	} {
		got, err := FindByIDs[thing](ctx, c, ids)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, id := range ids {
			if id != missing {
				want[id] = true
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d ids: got %d documents, want %d", len(ids), len(got), len(want))
		}
		for _, d := range got {
			if !want[d.ID] || d.ID != fmt.Sprintf("%024x", d.N) {
				t.Fatalf("%d ids: unexpected %+v", len(ids), d)
			}
		}
	}
}
