package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"hoctap/internal/database"
	"hoctap/internal/datalock"
	"hoctap/media"
)

// Storage is the database and media store a configuration names, opened without serving,
// for the commands that work on the data itself (backup, restore).
type Storage struct {
	DB    *database.DB
	Store media.Store
	lock  *datalock.Lock
}

// OpenStorage opens the database and the media store cfg names, as Serve does. With the
// embedded database it first takes the data directory's lock (see datalock), so it never
// opens the database files of a running server: it then returns an error wrapping
// datalock.ErrHeld that tells to stop the server (or to back up from MongoDB while it
// runs). Other errors name the setting at fault. Close releases everything.
func OpenStorage(ctx context.Context, cfg Config, log *slog.Logger) (*Storage, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("setting HOCTAP_DATA_DIR: %w", err)
	}
	lock, err := lockDataDir(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.SecretKey == "" {
		key, err := loadOrCreateSecret(filepath.Join(cfg.DataDir, "secret.key"))
		if err != nil {
			_ = lock.Release()
			return nil, err
		}
		cfg.SecretKey = key
	}
	db, err := database.Open(ctx, database.Config{URI: cfg.MongoURI, Name: cfg.MongoDatabase, DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		_ = lock.Release()
		return nil, fmt.Errorf("setting HOCTAP_MONGODB_URI: %w", err)
	}
	store, _, err := openStore(ctx, cfg, log)
	if err != nil {
		_ = db.Close(ctx)
		_ = lock.Release()
		return nil, err
	}
	return &Storage{DB: db, Store: store, lock: lock}, nil
}

// Close closes the database (flushing the embedded one) and releases the lock.
func (s *Storage) Close(ctx context.Context) error {
	return errors.Join(s.DB.Close(ctx), s.lock.Release())
}
