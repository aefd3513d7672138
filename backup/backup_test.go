package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/internal/clock"
	"hoctap/internal/dbtest"
	"hoctap/internal/errs"
	"hoctap/internal/miniotest"
	"hoctap/media"
)

func diskStore(t *testing.T) *media.DiskStore {
	t.Helper()
	st, err := media.NewDiskStore(media.DiskConfig{Root: t.TempDir(), PublicBaseURL: "http://127.0.0.1:1", Secret: bytes.Repeat([]byte("k"), 32)})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// bigObject is large enough to stream through several buffers and, on MinIO, to be stored
// as a multipart upload by minio-go (its ETag is then not an MD5).
const bigObject = 17<<20 + 123

// populate fills db and store with what a Hoctap installation holds: several collections
// with every BSON type Hoctap uses, one spanning several archive files, an empty one, and
// objects of various sizes and names.
func populate(t *testing.T, db *mongo.Database, store media.Store) {
	t.Helper()
	ctx := context.Background()
	when := time.Date(2026, 11, 24, 8, 30, 15, 123e6, time.UTC)
	users := []any{
		bson.D{{Key: "_id", Value: "u1"}, {Key: "username", Value: "nguyenvana"}, {Key: "full_name", Value: "Nguyễn Văn A"},
			{Key: "roles", Value: bson.A{"learner", "trainer"}}, {Key: "created_at", Value: when}, {Key: "active", Value: true},
			{Key: "unit", Value: bson.D{{Key: "id", Value: "x1"}, {Key: "path", Value: bson.A{"root", "x1"}}}}},
		bson.D{{Key: "_id", Value: "u2"}, {Key: "username", Value: "tranthib"}, {Key: "score", Value: 8.25}, {Key: "points", Value: int32(825)},
			{Key: "big", Value: int64(1) << 40}, {Key: "hash", Value: bson.Binary{Subtype: 0, Data: []byte{0, 1, 2, 255}}},
			{Key: "deleted_at", Value: nil}, {Key: "oid", Value: bson.NewObjectID()}},
	}
	if _, err := db.Collection("users").InsertMany(ctx, users); err != nil {
		t.Fatal(err)
	}
	events := make([]any, 2345) // three archive files
	for i := range events {
		events[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("e%05d", i)}, {Key: "seq", Value: int64(i)}, {Key: "text", Value: strings.Repeat("chào ", i%7)}, {Key: "at", Value: when.Add(time.Duration(i) * time.Second)}}
	}
	if _, err := db.Collection("live_events").InsertMany(ctx, events); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCollection(ctx, "targets"); err != nil {
		t.Fatal(err)
	}
	put := func(key, ct string, b []byte) {
		if _, err := store.Put(ctx, key, bytes.NewReader(b), int64(len(b)), ct); err != nil {
			t.Fatal(err)
		}
	}
	put("lectures/2026/11/a", "application/pdf", []byte("%PDF-1.7 bài giảng"))
	put("lectures/2026/11/b", "video/mp4", patterned(bigObject))
	put("certificates/Giấy chứng nhận Nguyễn Văn A.pdf", "application/pdf", patterned(5000))
	put("empty/zero", "text/plain", nil)
}

func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>11)
	}
	return b
}

// assertSame compares two installations: every collection document by document (raw BSON
// bytes, in _id order) and every object byte by byte.
func assertSame(t *testing.T, srcDB *mongo.Database, srcStore media.Store, dstDB *mongo.Database, dstStore media.Store) {
	t.Helper()
	ctx := context.Background()
	names := func(db *mongo.Database) []string {
		n, err := userCollections(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(n)
		return n
	}
	srcNames, dstNames := names(srcDB), names(dstDB)
	if !slices.Equal(srcNames, dstNames) {
		t.Fatalf("collections: source %v, restored %v", srcNames, dstNames)
	}
	all := func(c *mongo.Collection) []bson.Raw {
		cur, err := c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			t.Fatal(err)
		}
		var out []bson.Raw
		for cur.Next(ctx) {
			out = append(out, slices.Clone(cur.Current))
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, name := range srcNames {
		a, b := all(srcDB.Collection(name)), all(dstDB.Collection(name))
		if len(a) != len(b) {
			t.Fatalf("%s: %d documents, restored %d", name, len(a), len(b))
		}
		for i := range a {
			if !bytes.Equal(a[i], b[i]) {
				t.Fatalf("%s: document %d differs:\n source   %s\n restored %s", name, i, a[i], b[i])
			}
		}
	}
	list := func(st media.Store) []media.ObjectInfo {
		var out []media.ObjectInfo
		for info, err := range st.List(ctx, "") {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, info)
		}
		return out
	}
	a, b := list(srcStore), list(dstStore)
	if len(a) != len(b) {
		t.Fatalf("objects: %d, restored %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Size != b[i].Size || a[i].ContentType != b[i].ContentType {
			t.Fatalf("object %d: source %+v, restored %+v", i, a[i], b[i])
		}
		if ha, hb := objectHash(t, srcStore, a[i].Key), objectHash(t, dstStore, b[i].Key); ha != hb {
			t.Fatalf("object %s: the restored bytes differ", a[i].Key)
		}
	}
}

func objectHash(t *testing.T, st media.Store, key string) [32]byte {
	t.Helper()
	rc, err := st.ReadRange(context.Background(), key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// assertEmpty proves a refused restore changed nothing in an empty target.
func assertEmpty(t *testing.T, db *mongo.Database, store media.Store) {
	t.Helper()
	ctx := context.Background()
	names, err := userCollections(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) > 0 {
		t.Fatalf("the target now has collections %v", names)
	}
	for info, err := range store.List(ctx, "") {
		t.Fatalf("the target now has object %+v (%v)", info, err)
	}
}

func backupFile(t *testing.T, db *mongo.Database, store media.Store, gzip bool) (string, Manifest) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hoctap.tar")
	m, err := WriteFile(context.Background(), path, db, store, Options{Gzip: gzip, Clock: clock.NewFixed(time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)).Now})
	if err != nil {
		t.Fatal(err)
	}
	return path, m
}

func restoreFile(t *testing.T, path string, db *mongo.Database, store media.Store, opts RestoreOptions) (Report, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Restore(context.Background(), f, db, store, opts)
}

func TestBackupRestoresEveryDocumentAndObjectExactly(t *testing.T) {
	src, srcStore := dbtest.New(t), diskStore(t)
	populate(t, src.Database, srcStore)
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			path, m := backupFile(t, src.Database, srcStore, gz)
			if m.Format != FormatVersion || m.Documents() != 2+2345 || len(m.Objects) != 4 || m.Bytes() != int64(bigObject+5000+len("%PDF-1.7 bài giảng")) {
				t.Fatalf("manifest: format %d, %d documents, %d objects, %d bytes", m.Format, m.Documents(), len(m.Objects), m.Bytes())
			}
			if got := m.Collections[0]; got.Name != "live_events" || len(got.Files) != 3 || got.Files[0].Documents != ChunkDocuments {
				t.Fatalf("live_events in the manifest: %+v", got)
			}
			dst, dstStore := dbtest.New(t), diskStore(t)
			rep, err := restoreFile(t, path, dst.Database, dstStore, RestoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Collections != 3 || rep.Documents != m.Documents() || rep.Objects != 4 || rep.Bytes != m.Bytes() {
				t.Fatalf("report %+v", rep)
			}
			assertSame(t, src.Database, srcStore, dst.Database, dstStore)
		})
	}
}

func TestRestoreRefusesATargetWithDataUnlessForced(t *testing.T) {
	src, srcStore := dbtest.New(t), diskStore(t)
	populate(t, src.Database, srcStore)
	path, _ := backupFile(t, src.Database, srcStore, false)
	ctx := context.Background()

	dst, dstStore := dbtest.New(t), diskStore(t)
	if _, err := dst.Database.Collection("users").InsertOne(ctx, bson.D{{Key: "_id", Value: "someone-else"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := dstStore.Put(ctx, "stray/object", strings.NewReader("x"), 1, "text/plain"); err != nil {
		t.Fatal(err)
	}
	_, err := restoreFile(t, path, dst.Database, dstStore, RestoreOptions{})
	if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "users has 1 documents") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore into a database with data: %v", err)
	}
	names, _ := userCollections(ctx, dst.Database)
	if n, _ := dst.Database.Collection("users").CountDocuments(ctx, bson.D{}); n != 1 || len(names) != 1 {
		t.Fatalf("the refused restore changed the target: %d users, collections %v", n, names)
	}

	// Objects alone make a target not empty either.
	onlyObjects := diskStore(t)
	if _, err := onlyObjects.Put(ctx, "stray/object", strings.NewReader("x"), 1, "text/plain"); err != nil {
		t.Fatal(err)
	}
	empty := dbtest.New(t)
	if _, err := restoreFile(t, path, empty.Database, onlyObjects, RestoreOptions{}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("restore into a store with objects: %v", err)
	}
	if names, _ := userCollections(ctx, empty.Database); len(names) > 0 {
		t.Fatalf("the refused restore created %v", names)
	}

	rep, err := restoreFile(t, path, dst.Database, dstStore, RestoreOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Dropped, []string{"users"}) || rep.DeletedObjects != 1 {
		t.Fatalf("forced restore dropped %v and deleted %d objects", rep.Dropped, rep.DeletedObjects)
	}
	assertSame(t, src.Database, srcStore, dst.Database, dstStore)
}

func TestRestoreIntoEmptyCollectionsIsAllowed(t *testing.T) {
	// A server that started on the target made its collections and indexes but stored
	// nothing yet: that is still an empty target.
	src, srcStore := dbtest.New(t), diskStore(t)
	populate(t, src.Database, srcStore)
	path, _ := backupFile(t, src.Database, srcStore, false)
	dst, dstStore := dbtest.New(t), diskStore(t)
	if err := dst.Database.CreateCollection(context.Background(), "users"); err != nil {
		t.Fatal(err)
	}
	if _, err := restoreFile(t, path, dst.Database, dstStore, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	assertSame(t, src.Database, srcStore, dst.Database, dstStore)
}

// TestBrokenArchivesAreRefusedAndChangeNothing cuts and alters a good archive in the ways
// a copy goes wrong and checks that each is refused with ErrCorrupt before any write.
func TestBrokenArchivesAreRefusedAndChangeNothing(t *testing.T) {
	src, srcStore := dbtest.New(t), diskStore(t)
	populate(t, src.Database, srcStore)
	plainPath, _ := backupFile(t, src.Database, srcStore, false)
	gzPath, _ := backupFile(t, src.Database, srcStore, true)
	plain, _ := os.ReadFile(plainPath)
	gz, _ := os.ReadFile(gzPath)

	flip := func(b []byte, at int) []byte {
		c := slices.Clone(b)
		c[at] ^= 0x40
		return c
	}
	inObject := bytes.Index(plain, []byte("%PDF-1.7 b")) + 3
	inDocument := bytes.Index(plain, []byte("nguyenvana")) + 2
	inManifest := bytes.LastIndex(plain, []byte(`"sha256"`)) + 12
	for _, at := range []int{inObject, inDocument, inManifest} {
		if at < 12 {
			t.Fatal("a marker was not found in the archive")
		}
	}
	manifestStart := bytes.LastIndex(plain, []byte("manifest.json"))
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty file", nil, "empty or too short"},
		{"not a tar", []byte("this is a text file, not a backup\n"), ""},
		{"truncated in half", plain[:len(plain)/2], "truncated"},
		{"truncated before the manifest", plain[:manifestStart-100], "truncated"},
		{"truncated inside the manifest", plain[:manifestStart+600], "truncated"},
		{"a byte of an object changed", flip(plain, inObject), "object lectures/2026/11/a does not match"},
		{"a byte of a document changed", flip(plain, inDocument), "users"},
		{"the manifest changed", flip(plain, inManifest), ""},
		{"gzip truncated", gz[:len(gz)-10], ""},
		{"gzip byte changed", flip(gz, len(gz)/2), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "broken.tar")
			if err := os.WriteFile(path, tc.b, 0o600); err != nil {
				t.Fatal(err)
			}
			dst, dstStore := dbtest.New(t), diskStore(t)
			_, err := restoreFile(t, path, dst.Database, dstStore, RestoreOptions{})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("restore: %v; want ErrCorrupt saying %q", err, tc.want)
			}
			assertEmpty(t, dst.Database, dstStore)
		})
	}
}

func TestNewerFormatIsRefused(t *testing.T) {
	var buf bytes.Buffer
	if _, err := Write(context.Background(), &buf, dbtest.New(t).Database, diskStore(t), Options{}); err != nil {
		t.Fatal(err)
	}
	b := bytes.Replace(buf.Bytes(), []byte(`"format": 1`), []byte(`"format": 9`), 1)
	_, err := Verify(bytes.NewReader(b))
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "format 9") {
		t.Fatalf("Verify of format 9: %v", err)
	}
}

// TestMigrateEmbeddedAndDiskToAnotherDatabaseAndMinIO moves a pilot (embedded database,
// disk store) to another database and a real MinIO, and back to disk from MinIO.
func TestMigrateEmbeddedAndDiskToAnotherDatabaseAndMinIO(t *testing.T) {
	ctx := context.Background()
	src, srcStore := dbtest.New(t), diskStore(t)
	populate(t, src.Database, srcStore)
	path, _ := backupFile(t, src.Database, srcStore, true)

	srv := miniotest.Start(t)
	minio, err := media.NewMinioStore(media.MinioConfig{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Bucket: srv.Bucket(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := minio.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	prod := dbtest.New(t)
	if _, err := restoreFile(t, path, prod.Database, minio, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	assertSame(t, src.Database, srcStore, prod.Database, minio)

	// And back: a backup taken from MinIO restores onto disk alike.
	back, _ := backupFile(t, prod.Database, minio, false)
	again, againStore := dbtest.New(t), diskStore(t)
	if _, err := restoreFile(t, back, again.Database, againStore, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	assertSame(t, src.Database, srcStore, again.Database, againStore)
}

func TestWriteFileLeavesNoFileWhenTheBackupFails(t *testing.T) {
	db := dbtest.New(t)
	populate(t, db.Database, diskStore(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "never.tar")
	if _, err := WriteFile(ctx, path, db.Database, diskStore(t), Options{}); err == nil {
		t.Fatal("a backup with a cancelled context succeeded")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 0 {
		t.Fatalf("a failed backup left %v", entries)
	}
}

func TestRestoreWithTheTargetStoreDownChangesNothing(t *testing.T) {
	src, srcStore := dbtest.New(t), diskStore(t)
	populate(t, src.Database, srcStore)
	path, _ := backupFile(t, src.Database, srcStore, false)
	down, err := media.NewMinioStore(media.MinioConfig{Endpoint: "127.0.0.1:1", AccessKey: "a", SecretKey: "b", Bucket: "hoctap"})
	if err != nil {
		t.Fatal(err)
	}
	dst := dbtest.New(t)
	if _, err := restoreFile(t, path, dst.Database, down, RestoreOptions{Force: true}); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("restore into a store that is down: %v", err)
	}
	if names, _ := userCollections(context.Background(), dst.Database); len(names) > 0 {
		t.Fatalf("the failed restore created %v", names)
	}
}
