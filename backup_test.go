package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/internal/database"
	"hoctap/internal/dbtest"
	"hoctap/internal/miniotest"
)

// api calls the server's JSON API and decodes the answer into out; it fails unless the
// status is want.
func api(t *testing.T, addr, method, path, token string, body any, want int, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+addr+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
}

func token(t *testing.T, addr, user, password string) string {
	t.Helper()
	var out struct{ Token string }
	api(t, addr, "POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": password}, 200, &out)
	return out.Token
}

// command runs the binary with args and env and returns its exit code and output.
func command(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// TestBackupAndRestoreMovePilotToMongoDBAndMinIO runs the real binary: a pilot on the
// embedded database and disk store gets a user and an uploaded lecture; `hoctap backup`
// refuses while the server runs, succeeds once it stopped; `hoctap restore` refuses a broken
// archive and a non-empty target, and moves the pilot onto another database server and a
// real MinIO, where the server then serves the same user and lecture.
func TestBackupAndRestoreMovePilotToMongoDBAndMinIO(t *testing.T) {
	bin := buildBinary(t)
	pilotDir := t.TempDir()
	addr := freeAddr(t)
	pilot := []string{"HOCTAP_DATA_DIR=" + pilotDir, "HOCTAP_ADMIN_PASSWORD=admin-password-1", "HOCTAP_MONGODB_URI=",
		"HOCTAP_S3_ENDPOINT=", "HOCTAP_MEDIA_ADDR=" + freeAddr(t), "HOCTAP_PUBLIC_URL=http://" + addr, "HOCTAP_MEDIA_PUBLIC_URL="}
	p := start(t, bin, addr, pilot...)

	admin := token(t, addr, "admin", "admin-password-1")
	var unit struct{ ID string }
	api(t, addr, "POST", "/api/v1/units", admin, map[string]string{"name": "Sở Nội vụ", "code": "SNV"}, 201, &unit)
	api(t, addr, "POST", "/api/v1/users", admin, map[string]any{"username": "giangvien", "password": "password-123",
		"full_name": "Lê Thị Giảng", "unit_id": unit.ID, "roles": []string{"lecturer"}}, 201, nil)
	lecturer := token(t, addr, "giangvien", "password-123")
	lecture := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("Bài giảng chuyển đổi số. "), 40000)...)
	var tk struct {
		UploadID string            `json:"upload_id"`
		URL      string            `json:"url"`
		Headers  map[string]string `json:"headers"`
	}
	api(t, addr, "POST", "/api/v1/media/uploads", lecturer, map[string]any{"filename": "Chuyển đổi số.pdf", "content_type": "application/pdf", "size": len(lecture)}, 201, &tk)
	req, _ := http.NewRequest("PUT", tk.URL, bytes.NewReader(lecture))
	for k, v := range tk.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	api(t, addr, "POST", "/api/v1/media/uploads/"+tk.UploadID+"/complete", lecturer, map[string]any{}, 200, nil)

	archive := filepath.Join(t.TempDir(), "pilot.tar.gz")
	code, out := command(t, bin, pilot, "backup", "--out", archive)
	if code != 1 || !strings.Contains(out, "in use by another Hoctap process") || !strings.Contains(out, "stop the server") {
		t.Fatalf("backup beside a running embedded server: exit %d\n%s", code, out)
	}
	p.stop(t)
	code, out = command(t, bin, pilot, "backup", "--out", archive)
	if code != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: exit %d\n%s", code, out)
	}

	// A truncated copy is refused before anything is written.
	whole, _ := os.ReadFile(archive)
	cut := filepath.Join(t.TempDir(), "cut.tar.gz")
	_ = os.WriteFile(cut, whole[:len(whole)*2/3], 0o600)
	code, out = command(t, bin, nil, "restore", "--in", cut, "--check")
	if code != 1 || !strings.Contains(out, "not a complete Hoctap backup") {
		t.Fatalf("restore --check of a truncated archive: exit %d\n%s", code, out)
	}
	code, out = command(t, bin, nil, "restore", "--in", archive, "--check")
	if code != 0 || !strings.Contains(out, "is a complete backup") {
		t.Fatalf("restore --check: exit %d\n%s", code, out)
	}
	emptyDir := t.TempDir()
	code, out = command(t, bin, []string{"HOCTAP_DATA_DIR=" + emptyDir, "HOCTAP_MONGODB_URI=", "HOCTAP_S3_ENDPOINT="}, "restore", "--in", cut)
	if code != 1 || !strings.Contains(out, "not a complete Hoctap backup") {
		t.Fatalf("restore of a truncated archive: exit %d\n%s", code, out)
	}
	if names := collections(t, openEmbedded(t, emptyDir)); len(names) > 0 {
		t.Fatalf("the refused restore created %v", names)
	}
	if entries, _ := os.ReadDir(filepath.Join(emptyDir, "media", "objects")); len(entries) > 0 {
		t.Fatalf("the refused restore stored objects")
	}

	mongoSrv := dbtest.NewServer(t)
	minio := miniotest.Start(t)
	prod := []string{"HOCTAP_DATA_DIR=" + t.TempDir(), "HOCTAP_MONGODB_URI=" + mongoSrv.URI, "HOCTAP_S3_ENDPOINT=" + minio.Endpoint,
		"HOCTAP_S3_ACCESS_KEY=" + minio.AccessKey, "HOCTAP_S3_SECRET_KEY=" + minio.SecretKey, "HOCTAP_S3_BUCKET=hoctap",
		"HOCTAP_ADMIN_PASSWORD=another-admin-password", "HOCTAP_PUBLIC_URL=http://" + addr}
	code, out = command(t, bin, prod, "restore", "--in", archive)
	if code != 0 || !strings.Contains(out, "counts and sizes match") {
		t.Fatalf("restore: exit %d\n%s", code, out)
	}
	code, out = command(t, bin, prod, "restore", "--in", archive)
	if code != 1 || !strings.Contains(out, "not empty") || !strings.Contains(out, "--force") {
		t.Fatalf("restore into the restored target: exit %d\n%s", code, out)
	}
	code, out = command(t, bin, prod, "restore", "--in", archive, "--force")
	if code != 0 {
		t.Fatalf("restore --force: exit %d\n%s", code, out)
	}

	// Every collection document by document.
	src := openEmbedded(t, pilotDir)
	dstDB, err := database.Open(context.Background(), database.Config{URI: mongoSrv.URI})
	if err != nil {
		t.Fatal(err)
	}
	defer dstDB.Close(context.Background())
	names := collections(t, src)
	if dst := collections(t, dstDB.Database); !slices.Equal(names, dst) || len(names) == 0 {
		t.Fatalf("collections: pilot %v, production %v", names, dst)
	}
	for _, name := range names {
		a, b := documents(t, src.Collection(name)), documents(t, dstDB.Database.Collection(name))
		if !slices.EqualFunc(a, b, func(x, y bson.Raw) bool { return bytes.Equal(x, y) }) {
			t.Fatalf("%s: the restored documents differ (%d and %d)", name, len(a), len(b))
		}
	}

	// The production server serves the pilot's people and lectures from MongoDB and MinIO.
	start(t, bin, addr, prod...)
	lecturer = token(t, addr, "giangvien", "password-123")
	var obj struct{ URL string }
	api(t, addr, "GET", "/api/v1/media/"+tk.UploadID, lecturer, nil, 200, &obj)
	if !strings.Contains(obj.URL, minio.Endpoint) {
		t.Fatalf("the lecture is not served from MinIO: %s", obj.URL)
	}
	resp, err = http.Get(obj.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, lecture) {
		t.Fatalf("the lecture from MinIO differs: %d bytes, want %d", len(got), len(lecture))
	}
}

// openEmbedded opens a stopped server's embedded database.
func openEmbedded(t *testing.T, dir string) *mongo.Database {
	t.Helper()
	db, err := database.Open(context.Background(), database.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db.Database
}

func collections(t *testing.T, db *mongo.Database) []string {
	t.Helper()
	names, err := db.ListCollectionNames(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return strings.HasPrefix(n, "system.") })
	slices.Sort(names)
	return names
}

func documents(t *testing.T, c *mongo.Collection) []bson.Raw {
	t.Helper()
	ctx := context.Background()
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

func TestTakeFlagsLeavesTheServerSettings(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		out       string
		gzip      bool
		rest      []string
		wantError bool
	}{
		{args: []string{"--out", "a.tar"}, out: "a.tar"},
		{args: []string{"-out=a.tar", "-gzip", "-data-dir", "/srv/x"}, out: "a.tar", gzip: true, rest: []string{"-data-dir", "/srv/x"}},
		{args: []string{"-mongodb-uri=mongodb://m", "--gzip=false", "--out", "b"}, out: "b", rest: []string{"-mongodb-uri=mongodb://m"}},
		{args: []string{"--out"}, wantError: true},
		{args: []string{"--gzip=perhaps", "--out", "b"}, wantError: true},
	} {
		var out string
		var gz bool
		rest, err := takeFlags(tc.args, map[string]*string{"out": &out}, map[string]*bool{"gzip": &gz})
		if (err != nil) != tc.wantError {
			t.Errorf("%q: error %v", tc.args, err)
			continue
		}
		if !tc.wantError && (out != tc.out || gz != tc.gzip || !slices.Equal(rest, tc.rest)) {
			t.Errorf("%q: out %q gzip %v rest %q", tc.args, out, gz, rest)
		}
	}
}

func TestBackupAndRestoreUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	getenv := func(string) string { return "" }
	if code := backupCommand(context.Background(), nil, getenv, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage: hoctap backup --out FILE") {
		t.Fatalf("backup without --out: %d %s", code, stderr.String())
	}
	stderr.Reset()
	if code := restoreCommand(context.Background(), []string{"--in", filepath.Join(t.TempDir(), "missing.tar")}, getenv, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "no such file") {
		t.Fatalf("restore of a missing file: %d %s", code, stderr.String())
	}
	stderr.Reset()
	archive := filepath.Join(t.TempDir(), "x.tar")
	_ = os.WriteFile(archive, []byte("x"), 0o600)
	if code := restoreCommand(context.Background(), []string{"--in", archive, "-session-ttl", "soon"}, getenv, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "HOCTAP_SESSION_TTL") {
		t.Fatalf("restore with a bad setting: %d %s", code, stderr.String())
	}
}
