package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/internal/clock"
	"hoctap/media"
)

// Options tune Write.
type Options struct {
	// Gzip compresses the archive. Lectures (video, PDF) hardly compress; documents do.
	Gzip bool
	// Clock gives created_at; nil means clock.System.
	Clock clock.Clock
}

// Write writes every collection of db (except system.*) and then every object of store to
// w as one archive, streaming objects without holding them in memory, and returns the
// manifest written last. Collections go first: an object is in the store before any
// document calls it ready and objects are written once, so every object a backed-up
// document refers to is still there when the objects are copied.
//
// A backup of a database in use is consistent per document, not across collections.
// Errors are the database's, the store's or w's, wrapped with what was being copied; an
// object that changes size while it is copied fails the backup.
func Write(ctx context.Context, w io.Writer, db *mongo.Database, store media.Store, opts Options) (Manifest, error) {
	now := opts.Clock
	if now == nil {
		now = clock.System
	}
	m := Manifest{Format: FormatVersion, CreatedAt: now().UTC().Truncate(time.Millisecond), Database: db.Name()}
	var gz *gzip.Writer
	if opts.Gzip {
		gz = gzip.NewWriter(w)
		w = gz
	}
	tw := tar.NewWriter(w)
	if err := writeJSON(tw, headerName, header{Format: m.Format, CreatedAt: m.CreatedAt}, m.CreatedAt); err != nil {
		return Manifest{}, err
	}
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: list collections: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		if isSystemCollection(name) {
			continue
		}
		c, err := writeCollection(ctx, tw, db.Collection(name), m.CreatedAt)
		if err != nil {
			return Manifest{}, err
		}
		m.Collections = append(m.Collections, c)
	}
	for info, err := range store.List(ctx, "") {
		if err != nil {
			return Manifest{}, fmt.Errorf("backup: list objects: %w", err)
		}
		o, err := writeObject(ctx, tw, store, info)
		if err != nil {
			return Manifest{}, err
		}
		m.Objects = append(m.Objects, o)
	}
	if err := writeJSON(tw, manifestName, m, m.CreatedAt); err != nil {
		return Manifest{}, err
	}
	if err := tw.Close(); err != nil {
		return Manifest{}, fmt.Errorf("backup: finish the archive: %w", err)
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return Manifest{}, fmt.Errorf("backup: finish the archive: %w", err)
		}
	}
	return m, nil
}

// WriteFile writes the archive to path through a temporary file in the same directory that
// is synced and renamed into place only when complete, so path never holds half a backup.
// An existing file at path is replaced.
func WriteFile(ctx context.Context, path string, db *mongo.Database, store media.Store, opts Options) (Manifest, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	m, err := Write(ctx, tmp, db, store, opts)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("backup: %w", cerr)
	}
	if err != nil {
		return Manifest{}, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

func writeJSON(tw *tar.Writer, name string, v any, mtime time.Time) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	return writeEntry(tw, name, b, mtime)
}

func writeEntry(tw *tar.Writer, name string, b []byte, mtime time.Time) error {
	if err := tw.WriteHeader(entryHeader(name, int64(len(b)), mtime)); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	if _, err := tw.Write(b); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	return nil
}

func entryHeader(name string, size int64, mtime time.Time) *tar.Header {
	// PAX carries long and non-ASCII names (Vietnamese file names in keys) exactly.
	return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o640, ModTime: mtime, Format: tar.FormatPAX}
}

// writeCollection copies coll in _id order into files of at most ChunkDocuments documents.
func writeCollection(ctx context.Context, tw *tar.Writer, coll *mongo.Collection, mtime time.Time) (Collection, error) {
	c := Collection{Name: coll.Name(), Files: []Chunk{}}
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(ChunkDocuments))
	if err != nil {
		return Collection{}, fmt.Errorf("backup: read %s: %w", c.Name, err)
	}
	defer cur.Close(ctx)
	var buf bytes.Buffer
	docs := 0
	flush := func() error {
		if docs == 0 {
			return nil
		}
		ch := Chunk{Path: chunkPath(c.Name, len(c.Files)+1), Documents: docs, Size: int64(buf.Len()), SHA256: sha256Hex(buf.Bytes())}
		if err := writeEntry(tw, ch.Path, buf.Bytes(), mtime); err != nil {
			return err
		}
		c.Files = append(c.Files, ch)
		c.Documents += int64(docs)
		buf.Reset()
		docs = 0
		return nil
	}
	for cur.Next(ctx) {
		buf.Write(cur.Current)
		docs++
		if docs == ChunkDocuments || buf.Len() >= chunkBytes {
			if err := flush(); err != nil {
				return Collection{}, err
			}
		}
	}
	if err := cur.Err(); err != nil {
		return Collection{}, fmt.Errorf("backup: read %s: %w", c.Name, err)
	}
	if err := flush(); err != nil {
		return Collection{}, err
	}
	return c, nil
}

// writeObject streams one object into the archive, hashing it on the way.
func writeObject(ctx context.Context, tw *tar.Writer, store media.Store, info media.ObjectInfo) (Object, error) {
	o := Object{Key: info.Key, Path: objectPath(info.Key), Size: info.Size, ContentType: info.ContentType, ETag: info.ETag}
	if o.ContentType == "" {
		st, err := store.Stat(ctx, info.Key)
		if err != nil {
			return Object{}, fmt.Errorf("backup: object %s: %w", info.Key, err)
		}
		o.ContentType = st.ContentType
	}
	mtime := info.LastModified
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	rc, err := store.ReadRange(ctx, info.Key, 0, -1)
	if err != nil {
		return Object{}, fmt.Errorf("backup: object %s: %w", info.Key, err)
	}
	defer rc.Close()
	if err := tw.WriteHeader(entryHeader(o.Path, o.Size, mtime.UTC())); err != nil {
		return Object{}, fmt.Errorf("backup: object %s: %w", info.Key, err)
	}
	h := sha256.New()
	n, err := io.Copy(tw, io.TeeReader(rc, h))
	switch {
	case errors.Is(err, tar.ErrWriteTooLong):
		return Object{}, fmt.Errorf("backup: object %s grew beyond its listed %d bytes while it was copied", info.Key, o.Size)
	case err != nil:
		return Object{}, fmt.Errorf("backup: object %s: %w", info.Key, err)
	case n != o.Size:
		return Object{}, fmt.Errorf("backup: object %s: read %d of its %d bytes", info.Key, n, o.Size)
	}
	o.SHA256 = hex.EncodeToString(h.Sum(nil))
	return o, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
