package backup

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"hoctap/media"
)

// maxChunkSize refuses a collection file no Write could have made before reading it into
// memory (chunkBytes plus one 16 MB document, with room to spare).
const maxChunkSize = 64 << 20

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Force restores into a target that holds data: every collection of the target database
	// is dropped first, objects of the archive overwrite those of the same key, and objects
	// the archive does not have are deleted, so the target ends equal to the archive.
	Force bool
}

// Report says what Restore did.
type Report struct {
	Manifest Manifest
	// Collections, Documents, Objects and Bytes were written and then counted back in the
	// target.
	Collections int
	Documents   int64
	Objects     int
	Bytes       int64
	// Dropped are the target's collections Force dropped; DeletedObjects the number of its
	// objects Force deleted because the archive does not have them.
	Dropped        []string
	DeletedObjects int
}

// entry is what the check pass saw of one archive entry.
type entry struct {
	size      int64
	sha256    string
	documents int
}

// archiveReader reads a tar archive that may be gzip-compressed.
type archiveReader struct {
	*tar.Reader
	gz *gzip.Reader
}

func openArchive(r io.Reader) (*archiveReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && len(magic) < 2 {
		return nil, corrupt("the file is empty or too short")
	}
	ar := &archiveReader{}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		if ar.gz, err = gzip.NewReader(br); err != nil {
			return nil, corrupt("bad gzip header: %v", err)
		}
		ar.Reader = tar.NewReader(ar.gz)
	} else {
		ar.Reader = tar.NewReader(br)
	}
	return ar, nil
}

// next is tar's Next with the archive's errors said plainly.
func (ar *archiveReader) next() (*tar.Header, error) {
	h, err := ar.Next()
	if err == nil || err == io.EOF {
		return h, err
	}
	return nil, readErr(err)
}

func readErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return corrupt("it ends in the middle of an entry (truncated?)")
	}
	return corrupt("%v", err)
}

// finish reads what follows the tar end, so gzip checks its trailer (CRC and length).
func (ar *archiveReader) finish() error {
	if ar.gz == nil {
		return nil
	}
	if _, err := io.Copy(io.Discard, ar.gz); err != nil {
		return readErr(err)
	}
	return nil
}

var chunkName = regexp.MustCompile(`^collections/[^/]+/[0-9]{6}\.bson$`)

// Verify reads a whole archive and checks it: the header and format, every entry's size
// and SHA-256 against the manifest, each collection file's BSON documents and their
// counts, no entry missing or extra, and the manifest last. It returns the manifest, or an
// error wrapping ErrCorrupt that says what is wrong.
func Verify(r io.Reader) (Manifest, error) {
	ar, err := openArchive(r)
	if err != nil {
		return Manifest{}, err
	}
	h, err := ar.next()
	if err == io.EOF || (err == nil && h.Name != headerName) {
		return Manifest{}, corrupt("it does not start with %s", headerName)
	}
	if err != nil {
		return Manifest{}, err
	}
	var hd header
	if err := readJSON(ar, h, &hd); err != nil {
		return Manifest{}, err
	}
	if hd.Format < 1 || hd.Format > FormatVersion {
		return Manifest{}, fmt.Errorf("%w: format %d; this hoctap reads formats 1 to %d (use a newer hoctap)", ErrCorrupt, hd.Format, FormatVersion)
	}
	seen := map[string]entry{}
	var m *Manifest
	for {
		h, err := ar.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Manifest{}, err
		}
		if m != nil {
			return Manifest{}, corrupt("entry %q follows the manifest", h.Name)
		}
		if _, dup := seen[h.Name]; dup {
			return Manifest{}, corrupt("entry %q appears twice", h.Name)
		}
		switch {
		case h.Name == manifestName:
			m = &Manifest{}
			if err := readJSON(ar, h, m); err != nil {
				return Manifest{}, err
			}
		case chunkName.MatchString(h.Name):
			b, err := readChunk(ar, h)
			if err != nil {
				return Manifest{}, err
			}
			docs, err := splitDocuments(b)
			if err != nil {
				return Manifest{}, corrupt("%s: %v", h.Name, err)
			}
			seen[h.Name] = entry{size: h.Size, sha256: sha256Hex(b), documents: len(docs)}
		case strings.HasPrefix(h.Name, "objects/") && h.Typeflag == tar.TypeReg:
			hs := sha256.New()
			n, err := io.Copy(hs, ar)
			if err != nil {
				return Manifest{}, readErr(err)
			}
			seen[h.Name] = entry{size: n, sha256: hex.EncodeToString(hs.Sum(nil))}
		default:
			return Manifest{}, corrupt("unexpected entry %q", h.Name)
		}
	}
	if m == nil {
		return Manifest{}, corrupt("it has no %s at its end (truncated?)", manifestName)
	}
	if err := ar.finish(); err != nil {
		return Manifest{}, err
	}
	if err := checkManifest(*m, hd, seen); err != nil {
		return Manifest{}, err
	}
	return *m, nil
}

// checkManifest compares the manifest with the entries seen: each one listed exactly once,
// with its size, hash and document count.
func checkManifest(m Manifest, hd header, seen map[string]entry) error {
	if m.Format != hd.Format {
		return corrupt("the manifest says format %d, the header %d", m.Format, hd.Format)
	}
	listed := map[string]bool{}
	names := map[string]bool{}
	for _, c := range m.Collections {
		if c.Name == "" || names[c.Name] || isSystemCollection(c.Name) {
			return corrupt("the manifest lists a bad or repeated collection %q", c.Name)
		}
		names[c.Name] = true
		var docs int64
		for i, f := range c.Files {
			if f.Path != chunkPath(c.Name, i+1) {
				return corrupt("collection %s: file %q is not where it belongs", c.Name, f.Path)
			}
			e, ok := seen[f.Path]
			switch {
			case !ok:
				return corrupt("collection %s: %s is missing", c.Name, f.Path)
			case e.size != f.Size || e.sha256 != f.SHA256:
				return corrupt("collection %s: %s does not match its size and checksum", c.Name, f.Path)
			case e.documents != f.Documents:
				return corrupt("collection %s: %s holds %d documents, the manifest says %d", c.Name, f.Path, e.documents, f.Documents)
			}
			listed[f.Path] = true
			docs += int64(f.Documents)
		}
		if docs != c.Documents {
			return corrupt("collection %s: its files hold %d documents, the manifest says %d", c.Name, docs, c.Documents)
		}
	}
	for _, o := range m.Objects {
		if err := media.ValidateKey(o.Key); err != nil || o.Path != objectPath(o.Key) || listed[o.Path] {
			return corrupt("the manifest lists a bad or repeated object %q", o.Key)
		}
		e, ok := seen[o.Path]
		switch {
		case !ok:
			return corrupt("object %s is missing", o.Key)
		case e.size != o.Size || e.sha256 != o.SHA256:
			return corrupt("object %s does not match its size and checksum", o.Key)
		}
		listed[o.Path] = true
	}
	for name := range seen {
		if !listed[name] {
			return corrupt("entry %q is not in the manifest", name)
		}
	}
	return nil
}

func readJSON(ar *archiveReader, h *tar.Header, v any) error {
	if h.Size > maxChunkSize {
		return corrupt("%s is too large", h.Name)
	}
	b, err := io.ReadAll(ar)
	if err != nil {
		return readErr(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return corrupt("%s: %v", h.Name, err)
	}
	return nil
}

func readChunk(ar *archiveReader, h *tar.Header) ([]byte, error) {
	if h.Size > maxChunkSize {
		return nil, corrupt("%s is too large", h.Name)
	}
	b, err := io.ReadAll(ar)
	if err != nil {
		return nil, readErr(err)
	}
	return b, nil
}

// splitDocuments cuts concatenated BSON documents apart and validates each.
func splitDocuments(b []byte) ([]bson.Raw, error) {
	var docs []bson.Raw
	for len(b) > 0 {
		if len(b) < 5 {
			return nil, errors.New("a document is cut short")
		}
		n := int(binary.LittleEndian.Uint32(b))
		if n < 5 || n > len(b) {
			return nil, errors.New("a document is cut short")
		}
		doc := bson.Raw(b[:n])
		if err := doc.Validate(); err != nil {
			return nil, fmt.Errorf("document %d: %w", len(docs)+1, err)
		}
		docs = append(docs, doc)
		b = b[n:]
	}
	return docs, nil
}

// Restore checks the whole archive (Verify) and only then writes it into db and store:
// documents in batches of ChunkDocuments, objects streamed, then counts both back and
// compares them with the manifest. It refuses, changing nothing, an archive that fails
// Verify (ErrCorrupt) and a target that holds any document or object unless opts.Force
// (ErrNotEmpty). Indexes are not restored: the server creates them when it starts.
//
// A failure while writing (the target went away, a disk filled up) leaves a partial
// restore; the error says so, and running Restore again with Force starts over.
func Restore(ctx context.Context, archive io.ReadSeeker, db *mongo.Database, store media.Store, opts RestoreOptions) (Report, error) {
	m, err := Verify(archive)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Manifest: m}
	// Both ends must answer before anything changes: a store that is down would otherwise be
	// found only after the documents went in.
	if err := store.Ping(ctx); err != nil {
		return Report{}, fmt.Errorf("restore: the target store: %w", err)
	}
	targetNames, err := userCollections(ctx, db)
	if err != nil {
		return Report{}, err
	}
	if !opts.Force {
		if err := checkEmpty(ctx, db, store, targetNames); err != nil {
			return Report{}, err
		}
	} else {
		for _, name := range targetNames {
			if err := db.Collection(name).Drop(ctx); err != nil {
				return Report{}, fmt.Errorf("restore: drop %s: %w", name, err)
			}
			rep.Dropped = append(rep.Dropped, name)
		}
	}
	if err := apply(ctx, archive, db, store, m); err != nil {
		return rep, fmt.Errorf("%w (the restore is incomplete; run it again with --force)", err)
	}
	if opts.Force {
		n, err := deleteExtraObjects(ctx, store, m)
		rep.DeletedObjects = n
		if err != nil {
			return rep, err
		}
	}
	if err := countBack(ctx, db, store, m, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

func userCollections(ctx context.Context, db *mongo.Database) ([]string, error) {
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("restore: list the target's collections: %w", err)
	}
	out := names[:0]
	for _, n := range names {
		if !isSystemCollection(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// checkEmpty returns ErrNotEmpty naming what the target holds. Empty collections (a server
// that started and created indexes but stored nothing) do not count.
func checkEmpty(ctx context.Context, db *mongo.Database, store media.Store, names []string) error {
	var held []string
	for _, name := range names {
		n, err := db.Collection(name).CountDocuments(ctx, bson.D{})
		if err != nil {
			return fmt.Errorf("restore: count %s: %w", name, err)
		}
		if n > 0 {
			held = append(held, fmt.Sprintf("%s has %d documents", name, n))
		}
	}
	for info, err := range store.List(ctx, "") {
		if err != nil {
			return fmt.Errorf("restore: list the target's objects: %w", err)
		}
		held = append(held, fmt.Sprintf("the store holds objects (%s, …)", info.Key))
		break
	}
	if len(held) > 0 {
		return fmt.Errorf("%w: %s; restore into an empty database and store, or use --force to replace everything", ErrNotEmpty, strings.Join(held, ", "))
	}
	return nil
}

// apply reads the archive again and writes it.
func apply(ctx context.Context, archive io.ReadSeeker, db *mongo.Database, store media.Store, m Manifest) error {
	if _, err := archive.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("restore: rewind the archive: %w", err)
	}
	ar, err := openArchive(archive)
	if err != nil {
		return err
	}
	chunks := map[string]string{}
	for _, c := range m.Collections {
		// Create each collection, so empty ones exist after the restore as before.
		if err := db.CreateCollection(ctx, c.Name); err != nil && !namespaceExists(err) {
			return fmt.Errorf("restore: create %s: %w", c.Name, err)
		}
		for _, f := range c.Files {
			chunks[f.Path] = c.Name
		}
	}
	objects := map[string]Object{}
	for _, o := range m.Objects {
		objects[o.Path] = o
	}
	for {
		h, err := ar.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if name, ok := chunks[h.Name]; ok {
			if err := insertChunk(ctx, ar, h, db.Collection(name)); err != nil {
				return err
			}
		} else if o, ok := objects[h.Name]; ok {
			if err := putObject(ctx, ar, store, o); err != nil {
				return err
			}
		}
	}
}

func insertChunk(ctx context.Context, ar *archiveReader, h *tar.Header, coll *mongo.Collection) error {
	b, err := readChunk(ar, h)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	docs, err := splitDocuments(b)
	if err != nil {
		return fmt.Errorf("restore: %w", corrupt("%s: %v", h.Name, err))
	}
	batch := make([]any, len(docs))
	for i, d := range docs {
		batch[i] = d
	}
	if _, err := coll.InsertMany(ctx, batch); err != nil {
		return fmt.Errorf("restore: insert into %s: %w", coll.Name(), err)
	}
	return nil
}

// putObject streams one object into the store and checks what arrived: its SHA-256 against
// the manifest and, when the store's ETag is a plain MD5, that too.
func putObject(ctx context.Context, ar *archiveReader, store media.Store, o Object) error {
	ct := o.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	hs, hm := sha256.New(), md5.New()
	info, err := store.Put(ctx, o.Key, io.TeeReader(ar, io.MultiWriter(hs, hm)), o.Size, ct)
	if err != nil {
		return fmt.Errorf("restore: put object %s: %w", o.Key, err)
	}
	if got := hex.EncodeToString(hs.Sum(nil)); got != o.SHA256 {
		return fmt.Errorf("restore: object %s: %w", o.Key, corrupt("its bytes changed since the archive was checked"))
	}
	if info.Size != o.Size || !etagMatches(info.ETag, hm) {
		return fmt.Errorf("restore: object %s: the store holds %d bytes (ETag %s) after the upload of %d", o.Key, info.Size, info.ETag, o.Size)
	}
	return nil
}

var plainMD5 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// etagMatches compares a store's ETag with the MD5 of the bytes sent when the ETag is a
// plain MD5; a multipart or encrypted object's ETag is something else and proves nothing.
func etagMatches(etag string, md hash.Hash) bool {
	etag = strings.ToLower(strings.Trim(etag, `"`))
	if !plainMD5.MatchString(etag) {
		return true
	}
	return etag == hex.EncodeToString(md.Sum(nil))
}

func deleteExtraObjects(ctx context.Context, store media.Store, m Manifest) (int, error) {
	keep := make(map[string]bool, len(m.Objects))
	for _, o := range m.Objects {
		keep[o.Key] = true
	}
	var extra []string
	for info, err := range store.List(ctx, "") {
		if err != nil {
			return 0, fmt.Errorf("restore: list the target's objects: %w", err)
		}
		if !keep[info.Key] {
			extra = append(extra, info.Key)
		}
	}
	for i, key := range extra {
		if err := store.Delete(ctx, key); err != nil {
			return i, fmt.Errorf("restore: delete object %s: %w", key, err)
		}
	}
	return len(extra), nil
}

// countBack counts what the target holds and compares it with the manifest.
func countBack(ctx context.Context, db *mongo.Database, store media.Store, m Manifest, rep *Report) error {
	var problems []string
	for _, c := range m.Collections {
		n, err := db.Collection(c.Name).CountDocuments(ctx, bson.D{})
		if err != nil {
			return fmt.Errorf("restore: count %s: %w", c.Name, err)
		}
		if n != c.Documents {
			problems = append(problems, fmt.Sprintf("%s has %d documents, the archive %d", c.Name, n, c.Documents))
		}
		rep.Collections++
		rep.Documents += n
	}
	stored := map[string]int64{}
	for info, err := range store.List(ctx, "") {
		if err != nil {
			return fmt.Errorf("restore: list the restored objects: %w", err)
		}
		stored[info.Key] = info.Size
	}
	for _, o := range m.Objects {
		size, ok := stored[o.Key]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("object %s is missing", o.Key))
		case size != o.Size:
			problems = append(problems, fmt.Sprintf("object %s has %d bytes, the archive %d", o.Key, size, o.Size))
		default:
			rep.Objects++
			rep.Bytes += size
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("restore: the target does not match the archive: %s", strings.Join(problems, "; "))
	}
	return nil
}

// namespaceExists reports MongoDB's NamespaceExists (48): an empty collection the target
// already had, which a restore without Force accepts.
func namespaceExists(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == 48
}
