// Package database connects Hoctap to MongoDB: either to a MongoDB server named by a URI,
// or to FerretDB embedded in this process with its SQLite files under a data directory, so
// that `go run .` needs no other software. Both are reached through the official driver,
// and domain code cannot tell them apart.
package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// Config says which database to use. When URI is empty, FerretDB is embedded with its
// files under DataDir.
type Config struct {
	URI     string
	Name    string // database name; "hoctap" when empty
	DataDir string // for the embedded server
	Logger  *slog.Logger
}

// DB is an open connection. Its Database is what domain services take.
type DB struct {
	Client   *mongo.Client
	Database *mongo.Database
	// Embedded is true when the server is FerretDB in this process.
	Embedded bool

	sqliteDir  string // FerretDB's SQLite files, in embedded mode
	stopFerret context.CancelFunc
	ferretDone chan struct{}
}

// Open connects and pings. With an empty URI it first starts the embedded server and
// connects with maxPoolSize=1, because FerretDB v1 applies updates read-modify-write without
// a lock and only a single connection serialises them.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Name == "" {
		cfg.Name = "hoctap"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	db := &DB{}
	uri := cfg.URI
	opts := options.Client().SetTimeout(30 * time.Second).SetServerSelectionTimeout(5 * time.Second)
	if uri == "" {
		var err error
		if uri, err = db.startEmbedded(cfg); err != nil {
			return nil, err
		}
		opts.SetMaxPoolSize(1)
	}
	client, err := mongo.Connect(opts.ApplyURI(uri))
	if err != nil {
		db.stopEmbedded()
		return nil, fmt.Errorf("database: connect: %w", err)
	}
	db.Client = client
	db.Database = client.Database(cfg.Name)
	if err := db.Ping(ctx); err != nil {
		_ = db.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return db, nil
}

func (db *DB) startEmbedded(cfg Config) (string, error) {
	if cfg.DataDir == "" {
		return "", errors.New("database: embedded mode needs a data directory")
	}
	dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "db"))
	if err != nil {
		return "", fmt.Errorf("database: data directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("database: data directory: %w", err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + string(filepath.Separator),
		Logger:    ferretLogger(cfg.Logger),
	})
	if err != nil {
		return "", fmt.Errorf("database: start embedded FerretDB: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	db.stopFerret = cancel
	db.ferretDone = make(chan struct{})
	go func() {
		defer close(db.ferretDone)
		_ = f.Run(ctx) // Run returns nil; it ends when ctx is cancelled.
	}()
	db.Embedded = true
	db.sqliteDir = dir
	return f.MongoDBURI(), nil
}

// ferretLogger passes on only FerretDB's warnings and errors: its info lines describe
// every connection and would drown the server's own log.
func ferretLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{Handler: l.Handler(), min: slog.LevelWarn}).With("component", "ferretdb")
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (h levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}
func (h levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{Handler: h.Handler.WithAttrs(a), min: h.min}
}
func (h levelFilter) WithGroup(n string) slog.Handler {
	return levelFilter{Handler: h.Handler.WithGroup(n), min: h.min}
}

func (db *DB) stopEmbedded() {
	if db.stopFerret != nil {
		db.stopFerret()
		<-db.ferretDone
		db.stopFerret = nil
	}
}

// Ping checks that the server answers within a few seconds; it returns an error wrapping
// the driver's when it does not.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := db.Client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("database: ping: %w", err)
	}
	return nil
}

// Close disconnects and, in embedded mode, stops FerretDB after its last write is flushed.
func (db *DB) Close(ctx context.Context) error {
	err := db.Client.Disconnect(ctx)
	db.stopEmbedded()
	if err != nil {
		return fmt.Errorf("database: disconnect: %w", err)
	}
	return nil
}

// IsDuplicateKey reports whether err is a unique-index violation, on MongoDB or on
// FerretDB (which reports violations by updates as a SQLite constraint error).
func IsDuplicateKey(err error) bool {
	if err == nil {
		return false
	}
	return mongo.IsDuplicateKeyError(err) || strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// IsUnavailable reports whether err means the database could not be reached in time, as
// opposed to a refused or failed operation.
func IsUnavailable(err error) bool {
	return mongo.IsTimeout(err) || mongo.IsNetworkError(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, mongo.ErrClientDisconnected) || strings.Contains(err.Error(), "server selection error")
}
