package database_test

import (
	"context"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/internal/database"
	"hoctap/internal/dbtest"
)

func TestConcurrentIncrementsAreAllKept(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	c := db.Database.Collection("counters")
	if _, err := c.InsertOne(ctx, bson.M{"_id": "n", "v": 0}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 20 {
				if _, err := c.UpdateOne(ctx, bson.M{"_id": "n"}, bson.M{"$inc": bson.M{"v": 1}}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	var got struct{ V int }
	if err := c.FindOne(ctx, bson.M{"_id": "n"}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.V != 320 {
		t.Fatalf("v = %d, want 320 (%s)", got.V, dbtest.Describe(db))
	}
}

func TestDuplicateKeyIsRecognised(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	c := db.Database.Collection("uniq")
	if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "k", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertOne(ctx, bson.M{"k": "a"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.InsertOne(ctx, bson.M{"k": "a"})
	if !database.IsDuplicateKey(err) {
		t.Fatalf("second insert: %v, want a duplicate-key error", err)
	}
	if database.IsDuplicateKey(nil) {
		t.Fatal("nil is not a duplicate key")
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Database.Collection("c").InsertOne(ctx, bson.M{"_id": "x"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}
	db, err = database.Open(ctx, database.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	n, err := db.Database.Collection("c").CountDocuments(ctx, bson.M{"_id": "x"})
	if err != nil || n != 1 {
		t.Fatalf("after reopen: n=%d err=%v", n, err)
	}
}

// TestIndexesSurviveRestart guards the FerretDB behaviour EnsureIndexes works around: on a
// reopened database, one createIndexes command naming several existing indexes panics.
func TestIndexesSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	models := []mongo.IndexModel{
		{Keys: bson.D{{Key: "username", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "unit_id", Value: 1}}},
		{Keys: bson.D{{Key: "unit_id", Value: 1}, {Key: "name", Value: 1}}},
	}
	for start := range 3 {
		db, err := database.Open(ctx, database.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if err := database.EnsureIndexes(ctx, db.Database.Collection("users"), models...); err != nil {
			t.Fatalf("start %d: %v", start, err)
		}
		if err := db.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
