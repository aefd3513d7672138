// Package dbtest gives each test a fresh, empty database: FerretDB embedded in a temporary
// directory, or, when HOCTAP_TEST_MONGODB_URI is set, a uniquely named database on that
// MongoDB server (dropped when the test ends). Nothing is skipped either way.
package dbtest

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"hoctap/internal/database"
	"hoctap/internal/ids"
)

// New opens a fresh database for t and closes it when t ends.
func New(t testing.TB) *database.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := database.Config{DataDir: t.TempDir()}
	if uri := os.Getenv("HOCTAP_TEST_MONGODB_URI"); uri != "" {
		cfg.URI = uri
		cfg.Name = "test_" + strings.ToLower(ids.New())
	}
	db, err := database.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if !db.Embedded {
			if err := db.Database.Drop(ctx); err != nil {
				t.Errorf("dbtest: drop %s: %v", cfg.Name, err)
			}
		}
		if err := db.Close(ctx); err != nil {
			t.Errorf("dbtest: %v", err)
		}
	})
	return db
}

// Describe names the backend for test logs.
func Describe(db *database.DB) string {
	if db.Embedded {
		return "embedded FerretDB"
	}
	return fmt.Sprintf("MongoDB database %s", db.Database.Name())
}

// Server is a FerretDB server in the test process that clients reach over TCP at URI, as
// they would reach an external MongoDB (a normal connection pool, no embedded shortcut).
// Stop and Start emulate an outage: Start serves the same files on the same port again.
type Server struct {
	// URI is the mongodb:// connection string; it stays valid across Stop and Start.
	URI string

	t       testing.TB
	dir     string
	addr    string
	cancel  context.CancelFunc
	stopped chan struct{}
}

// NewServer starts a Server on a free loopback port with its files in a temporary
// directory, and stops it when t ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, dir: t.TempDir(), addr: "127.0.0.1:0"}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start serves again after Stop, on the same port and files; it fails the test when that
// port cannot be bound. Starting a running server does nothing.
func (s *Server) Start() {
	s.t.Helper()
	if s.cancel != nil {
		return
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: s.addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + s.dir + string(filepath.Separator),
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		s.t.Fatalf("dbtest: start FerretDB on %s: %v", s.addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.stopped = cancel, make(chan struct{})
	go func() {
		defer close(s.stopped)
		_ = f.Run(ctx)
	}()
	uri := f.MongoDBURI() // waits until the listener is up
	if s.URI == "" {
		u, err := url.Parse(uri)
		if err != nil {
			s.t.Fatalf("dbtest: %v", err)
		}
		s.addr, s.URI = u.Host, uri
	}
}

// Stop closes the listener and every connection and waits until the files are closed.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.stopped
	s.cancel = nil
}
