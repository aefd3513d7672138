package dbtest

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"hoctap/internal/database"
)

func TestServerStopsAndStartsAgainWithItsData(t *testing.T) {
	ctx := context.Background()
	srv := NewServer(t)
	db, err := database.Open(ctx, database.Config{URI: srv.URI})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if db.Embedded {
		t.Fatal("a Server must be reached as an external database")
	}
	if _, err := db.Database.Collection("c").InsertOne(ctx, bson.M{"_id": "kept"}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := db.Ping(ctx); err == nil {
		t.Fatal("a stopped server answered")
	}
	srv.Stop() // harmless
	srv.Start()
	// The same client, unchanged, reconnects and finds the document.
	n, err := db.Database.Collection("c").CountDocuments(ctx, bson.M{"_id": "kept"})
	if err != nil || n != 1 {
		t.Fatalf("after Start: n=%d err=%v", n, err)
	}
}
