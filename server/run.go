package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hoctap/accounts"
	"hoctap/courses"
	"hoctap/courses/live"
	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/datalock"
	"hoctap/media"
	"hoctap/reports"
)

// Run starts Hoctap with cfg and serves until ctx is cancelled (SIGINT/SIGTERM in main),
// then stops accepting connections, lets requests in flight finish within
// cfg.ShutdownTimeout, flushes buffered writes and closes the database.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("setting HOCTAP_ADDR: listen on %s: %w", cfg.Addr, err)
	}
	return Serve(ctx, cfg, log, ln)
}

// Serve is Run on a listener the caller opened; tests use it with a free port.
func Serve(ctx context.Context, cfg Config, log *slog.Logger, ln net.Listener) error {
	defer ln.Close()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("setting HOCTAP_DATA_DIR: %w", err)
	}
	lock, err := lockDataDir(cfg)
	if err != nil {
		return err
	}
	defer lock.Release()
	if cfg.SecretKey == "" {
		key, err := loadOrCreateSecret(filepath.Join(cfg.DataDir, "secret.key"))
		if err != nil {
			return err
		}
		cfg.SecretKey = key
	}
	db, err := database.Open(ctx, database.Config{URI: cfg.MongoURI, Name: cfg.MongoDatabase, DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		return fmt.Errorf("setting HOCTAP_MONGODB_URI: %w", err)
	}
	defer func() {
		if err := db.Close(context.WithoutCancel(ctx)); err != nil {
			log.Error("closing the database", "err", err)
		}
	}()
	store, disk, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	svc, closeServices, err := buildServices(ctx, cfg, db, store, clock.System, log)
	if err != nil {
		return err
	}
	defer closeServices()
	go func() {
		// The first roll-ups after a start, and those after a quiet spell longer than the
		// snapshots may be served stale, need not wait for a full load.
		if err := svc.Reports.Warm(ctx); err != nil && ctx.Err() == nil {
			log.Warn("warming the reports snapshots failed; the first roll-up loads them", "err", err.Error())
		}
		every(ctx, 5*time.Minute, log, "keep the reports snapshots warm", svc.Reports.Warm)
	}()
	if disk != nil {
		mln, err := net.Listen("tcp", cfg.MediaAddr)
		if err != nil {
			return fmt.Errorf("setting HOCTAP_MEDIA_ADDR: listen on %s: %w", cfg.MediaAddr, err)
		}
		ms := mediaServer(disk)
		go serveMedia(ms, mln, log)
		defer ms.Close()
		log.Info("the disk media store is serving", "addr", mln.Addr().String(), "public_url", cfg.MediaPublicURL)
	}
	if err := ensureAdmin(ctx, cfg, svc.Accounts, log); err != nil {
		return err
	}
	logMode(cfg, log)

	go every(ctx, time.Hour, log, "purge expired sessions", func(ctx context.Context) error {
		_, err := svc.Accounts.PurgeExpiredSessions(ctx)
		return err
	})
	go every(ctx, time.Hour, log, "purge abandoned uploads", func(ctx context.Context) error {
		_, err := svc.Media.PurgeAbandonedUploads(ctx, 24*time.Hour)
		return err
	})

	// Collections a package creates on its first insert (attempt_papers, say) exist only
	// after start-up; their _id lookups get the index within a minute.
	go every(ctx, time.Minute, log, "index _id lookups of new collections", svc.DB.IndexIDLookups)
	go every(ctx, sweepInterval, log, "close attempts past their deadline", func(ctx context.Context) error {
		_, err := svc.Assessment.SweepOnce(ctx)
		return err
	})

	srv := New(cfg, log, clock.System, svc)
	served := make(chan error, 1)
	go func() { served <- srv.app.Listener(ln) }()
	log.Info("hoctap is listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)
	select {
	case err := <-served:
		return fmt.Errorf("serving HTTP: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests", "timeout", cfg.ShutdownTimeout.String())
	if err := srv.app.ShutdownWithTimeout(cfg.ShutdownTimeout); err != nil {
		log.Warn("requests still in flight at the shutdown timeout", "err", err)
	}
	return nil
}

// buildServices makes every domain service on db and creates their indexes. The returned
// func flushes and stops their background work; call it before closing db.
func buildServices(ctx context.Context, cfg Config, db *database.DB, store media.Store, now clock.Clock, log *slog.Logger) (Services, func(), error) {
	acc := accounts.NewService(db.Database, accounts.Config{
		SessionTTL:         cfg.SessionTTL,
		MaxFailuresPerUser: cfg.LoginMaxFailuresPerUser,
		MaxFailuresPerIP:   cfg.LoginMaxFailuresPerIP,
		FailureWindow:      cfg.LoginFailureWindow,
	}, now)
	med := media.NewService(media.ServiceConfig{DB: db.Database, Store: store, Now: now, MaxUploadBytes: int64(cfg.MaxUploadMB) << 20})
	for _, ensure := range []func(context.Context) error{acc.EnsureIndexes, med.EnsureIndexes} {
		if err := ensure(ctx); err != nil {
			return Services{}, nil, fmt.Errorf("creating indexes: %w", err)
		}
	}
	// The audit log reads unit paths from accounts, and every service below records into it.
	aud, err := buildAudit(ctx, db, acc, now)
	if err != nil {
		return Services{}, nil, fmt.Errorf("audit log: %w", err)
	}
	// Courses first: the live hub asks it who belongs to a class (ClassRole). From here on
	// background work runs, so every failure stops what was started.
	crs := courses.New(courses.Config{DB: db.Database, Clock: now, Directory: acc, Logger: log, Auditor: aud})
	crs.SetMediaCatalog(mediaCatalog{m: med})
	med.SetViewers(crs)
	closeLive := func() {}
	closeAll := func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := crs.Close(cctx); err != nil { // writes buffered progress
			log.Error("progress still buffered at shutdown was not written", "err", err.Error())
		}
		closeLive()
	}
	fail := func(what string, err error) (Services, func(), error) {
		closeAll()
		return Services{}, nil, fmt.Errorf("%s: %w", what, err)
	}
	hub, stopLive, err := buildLive(ctx, db, liveMembership(crs), now, cfg.NATSURL, live.HubOptions{Logger: log, Auditor: aud})
	if err != nil {
		return fail("live sessions", err)
	}
	closeLive = stopLive
	asm, err := buildAssessment(ctx, db, crs, now, log, aud)
	if err != nil {
		return fail("assessment", err)
	}
	rep, err := reports.New(reports.Config{DB: db.Database, Clock: now, Directory: reports.NewAccountsDirectory(acc, db.Database),
		Learning: reportsLearning{c: crs, enrol: reports.NewEnrolmentReader(db.Database)}, Quizzes: reportsQuizzes{a: asm}, Live: reportsAttendance{hub: hub, c: crs},
		PublicURL: cfg.PublicURL, Auditor: aud})
	if err != nil {
		return fail("reports", err)
	}
	crs.SetCompletionListener(certificateIssuer{r: rep})
	for _, ensure := range []func(context.Context) error{crs.EnsureIndexes, rep.EnsureIndexes} {
		if err := ensure(ctx); err != nil {
			return fail("creating indexes", err)
		}
	}
	// Last: every collection exists now that its indexes do.
	if err := db.IndexIDLookups(ctx); err != nil {
		return fail("indexing _id lookups", err)
	}
	return Services{DB: db, Store: store, Accounts: acc, Media: med, Live: hub, Courses: crs, Reports: rep, Assessment: asm, Audit: aud}, closeAll, nil
}

// certificateIssuer issues a learner's certificate when courses says they completed a class.
type certificateIssuer struct{ r *reports.Service }

func (ci certificateIssuer) ClassCompleted(ctx context.Context, classID, userID string) error {
	_, err := ci.r.IssueCertificate(ctx, classID, userID)
	return err
}

func ensureAdmin(ctx context.Context, cfg Config, acc *accounts.Service, log *slog.Logger) error {
	created, password, err := acc.EnsureAdmin(ctx, cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("creating the admin account: %w", err)
	}
	if created && cfg.AdminPassword == "" {
		// Printed once, on the first start only: later starts never reset it.
		log.Warn("created the admin account with a random password; sign in and change it",
			"username", "admin", "password", password)
	} else if created {
		log.Info("created the admin account with the password from HOCTAP_ADMIN_PASSWORD", "username", "admin")
	}
	return nil
}

func logMode(cfg Config, log *slog.Logger) {
	switch {
	case cfg.Embedded() && cfg.S3Endpoint == "":
		log.Info("embedded mode: the database is FerretDB inside this process and media are stored on disk, both under the data directory; set HOCTAP_MONGODB_URI to use a MongoDB server and HOCTAP_S3_ENDPOINT (with HOCTAP_S3_ACCESS_KEY, HOCTAP_S3_SECRET_KEY, HOCTAP_S3_BUCKET) to use MinIO",
			"data_dir", cfg.DataDir)
	case cfg.Embedded():
		log.Info("embedded database mode: FerretDB inside this process under the data directory; set HOCTAP_MONGODB_URI to use a MongoDB server", "data_dir", cfg.DataDir, "s3_endpoint", cfg.S3Endpoint)
	case cfg.S3Endpoint == "":
		log.Info("MongoDB server mode with media stored on disk under the data directory; set HOCTAP_S3_ENDPOINT to use MinIO", "data_dir", cfg.DataDir)
	default:
		log.Info("production mode: MongoDB server and MinIO", "s3_endpoint", cfg.S3Endpoint, "bucket", cfg.S3Bucket)
	}
}

// lockDataDir takes the data directory's lock when the database is embedded: the embedded
// FerretDB's files must be opened by one process only (a second server, or a backup run
// beside this one). A MongoDB server has no such files, so then nothing is locked (the
// nil *datalock.Lock releases as a no-op).
func lockDataDir(cfg Config) (*datalock.Lock, error) {
	if !cfg.Embedded() {
		return nil, nil
	}
	lock, err := datalock.Acquire(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("setting HOCTAP_DATA_DIR: %w (stop the server before a backup or restore of its embedded database, or back up from MongoDB while it runs)", err)
	}
	return lock, nil
}

// loadOrCreateSecret returns the key kept at path, making a random one on first use.
func loadOrCreateSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if key := strings.TrimSpace(string(b)); len(key) >= 32 {
			return key, nil
		}
		return "", fmt.Errorf("setting HOCTAP_SECRET_KEY: %s holds fewer than 32 characters", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("setting HOCTAP_SECRET_KEY: %w", err)
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	key := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("setting HOCTAP_SECRET_KEY: %w", err)
	}
	return key, nil
}
