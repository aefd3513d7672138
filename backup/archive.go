// Package backup writes a whole Hoctap installation — every collection of its database and
// every object of its media store — into one archive file, checks such an archive, and
// restores it into another database and store. It knows nothing of Hoctap's domain: it
// takes a *mongo.Database and a media.Store, so the same pair of commands backs up a pilot
// on the embedded database and disk store and restores it onto MongoDB and MinIO.
//
// The archive is a tar file, gzip-compressed or not (Restore tells by its first bytes):
//
//	hoctap-backup.json                 {"format":1,"created_at":…}: says what the file is
//	collections/<name>/000001.bson     up to ChunkDocuments raw BSON documents, concatenated
//	…                                  (mongodump's .bson format); <name> is path-escaped
//	objects/<key>                      an object's bytes, streamed
//	…
//	manifest.json                      the Manifest: counts, sizes, ETags and SHA-256 of all
//
// The manifest comes last because it describes what was actually written (a server backed
// up while it runs keeps changing). Restore reads the archive twice: once to check every
// entry against the manifest, and only when all of it is sound, again to write. So a
// truncated or corrupt archive is refused before anything changes.
//
// Indexes are not archived: every package creates its own at server start-up.
package backup

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// FormatVersion is the archive format this package writes and the newest it reads.
const FormatVersion = 1

// ChunkDocuments is the most documents one collection file holds; it is also the batch of
// one insertMany on restore.
const ChunkDocuments = 1000

// chunkBytes caps a collection file's size, so memory stays bounded with large documents
// (a file always holds at least one document, at most 16 MB).
const chunkBytes = 8 << 20

// Names of the fixed archive entries.
const (
	headerName   = "hoctap-backup.json"
	manifestName = "manifest.json"
)

// ErrCorrupt is wrapped by the errors of an archive that is not a complete, intact Hoctap
// backup (truncated, altered, or not a backup at all).
var ErrCorrupt = errors.New("the archive is not a complete Hoctap backup")

// ErrNotEmpty is wrapped by Restore's error when the target holds data and Force is off.
var ErrNotEmpty = errors.New("the target is not empty")

// header is the first entry: enough to tell a Hoctap backup and its format at once.
type header struct {
	Format    int       `json:"format"`
	CreatedAt time.Time `json:"created_at"`
}

// Manifest describes an archive's content.
type Manifest struct {
	Format    int       `json:"format"`
	CreatedAt time.Time `json:"created_at"`
	// Database is the name of the database backed up (a restore may use another name).
	Database    string       `json:"database"`
	Collections []Collection `json:"collections"`
	Objects     []Object     `json:"objects"`
}

// Collection is one backed-up collection.
type Collection struct {
	Name      string  `json:"name"`
	Documents int64   `json:"documents"`
	Files     []Chunk `json:"files"`
}

// Chunk is one file of a collection's documents.
type Chunk struct {
	Path      string `json:"path"`
	Documents int    `json:"documents"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
}

// Object is one backed-up media object.
type Object struct {
	Key         string `json:"key"`
	Path        string `json:"path"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	// ETag is the source store's; a restored object may get another (a multipart upload's
	// ETag is not the MD5 of the bytes), so SHA256 is what proves the bytes equal.
	ETag   string `json:"etag"`
	SHA256 string `json:"sha256"`
}

// Documents is the number of documents in all collections.
func (m Manifest) Documents() int64 {
	var n int64
	for _, c := range m.Collections {
		n += c.Documents
	}
	return n
}

// Bytes is the total size of all objects.
func (m Manifest) Bytes() int64 {
	var n int64
	for _, o := range m.Objects {
		n += o.Size
	}
	return n
}

func chunkPath(collection string, n int) string {
	return fmt.Sprintf("collections/%s/%06d.bson", url.PathEscape(collection), n)
}

func objectPath(key string) string { return "objects/" + key }

func isSystemCollection(name string) bool { return strings.HasPrefix(name, "system.") }

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}
