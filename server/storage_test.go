package server

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"hoctap/internal/datalock"
	"hoctap/internal/dbtest"
)

// TestEmbeddedDataDirectoryIsOpenedByOneProcessOnly: a server and the backup and restore
// commands (OpenStorage) take the data directory's lock with the embedded database, so a
// second one is refused with a message saying what to do; with a MongoDB server nothing is
// locked, so a backup runs beside the servers.
func TestEmbeddedDataDirectoryIsOpenedByOneProcessOnly(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	log := NewLogger(io.Discard, "error")
	st, err := OpenStorage(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenStorage(ctx, cfg, log)
	if !errors.Is(err, datalock.ErrHeld) || !strings.Contains(err.Error(), "stop the server") {
		t.Fatalf("second OpenStorage: %v", err)
	}
	err = Serve(ctx, cfg, log, listen(t))
	if !errors.Is(err, datalock.ErrHeld) {
		t.Fatalf("Serve beside OpenStorage: %v", err)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st, err = OpenStorage(ctx, cfg, log)
	if err != nil {
		t.Fatalf("OpenStorage after Close: %v", err)
	}
	st.Close(ctx)

	mongo := dbtest.NewServer(t)
	cfg.MongoURI = mongo.URI
	a, err := OpenStorage(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	b, err := OpenStorage(ctx, cfg, log)
	if err != nil {
		t.Fatalf("a second OpenStorage on a MongoDB server: %v", err)
	}
	b.Close(ctx)
}
