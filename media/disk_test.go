package media_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hoctap/internal/clock"
	"hoctap/internal/errs"
	"hoctap/media"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// send makes a request and returns the status and body.
func send(t *testing.T, method, u string, headers map[string]string, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestNewDiskStoreRefusesBadConfig(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	for _, cfg := range []media.DiskConfig{
		{Root: "", PublicBaseURL: "http://x", Secret: secret},
		{Root: t.TempDir(), PublicBaseURL: "http://x", Secret: []byte("short")},
		{Root: t.TempDir(), PublicBaseURL: "", Secret: secret},
		{Root: t.TempDir(), PublicBaseURL: "localhost:8080", Secret: secret},
		{Root: t.TempDir(), PublicBaseURL: "ftp://x", Secret: secret},
		{Root: t.TempDir(), PublicBaseURL: "http://x/?a=1", Secret: secret},
	} {
		if _, err := media.NewDiskStore(cfg); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("NewDiskStore(%+v) = %v, want ErrInvalid", cfg, err)
		}
	}
}

func TestDiskURLExpiresAtItsTime(t *testing.T) {
	clk := clock.NewFixed(t0)
	s, _ := newDisk(t, media.DiskConfig{Clock: clk.Now})
	ctx := context.Background()
	if _, err := s.Put(ctx, "a/b.pdf", strings.NewReader("%PDF-1.4"), 8, "application/pdf"); err != nil {
		t.Fatal(err)
	}
	get, err := s.PresignGet(ctx, "a/b.pdf", media.GetOptions{Expiry: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !get.Expires.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Expires = %v, want %v", get.Expires, t0.Add(time.Minute))
	}
	clk.Advance(time.Minute)
	if code, _, _ := send(t, "GET", get.URL, nil, nil); code != http.StatusOK {
		t.Fatalf("GET at the expiry second: %d, want 200", code)
	}
	clk.Advance(time.Second)
	if code, _, body := send(t, "GET", get.URL, nil, nil); code != http.StatusForbidden || !strings.Contains(string(body), "expired") {
		t.Fatalf("GET a second after expiry: %d %s, want 403 expired", code, body)
	}
}

func TestDiskSignatureCoversEveryTerm(t *testing.T) {
	s, srv := newDisk(t, media.DiskConfig{})
	ctx := context.Background()
	if _, err := s.Put(ctx, "k/obj", strings.NewReader("hello"), 5, "text/plain"); err != nil {
		t.Fatal(err)
	}
	id, err := s.CreateMultipartUpload(ctx, "k/mp", media.MultipartOptions{ContentType: "video/mp4"})
	if err != nil {
		t.Fatal(err)
	}
	put, _ := s.PresignPut(ctx, "k/new", media.PutOptions{ContentType: "video/mp4", MaxSize: 10})
	get, _ := s.PresignGet(ctx, "k/obj", media.GetOptions{Filename: "a.txt"})
	part, _ := s.PresignPart(ctx, "k/mp", id, 1, time.Minute)
	edit := func(raw, name, value string) string {
		u, _ := url.Parse(raw)
		q := u.Query()
		if value == "" {
			q.Del(name)
		} else {
			q.Set(name, value)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for _, tc := range []struct {
		name, method, url string
	}{
		{"no signature", "GET", edit(get.URL, "sig", "")},
		{"later expiry", "GET", edit(get.URL, "exp", "99999999999")},
		{"other filename", "GET", edit(get.URL, "fn", "evil.html")},
		{"inline added", "GET", edit(get.URL, "inline", "1")},
		{"get made put", "PUT", edit(get.URL, "op", "put")},
		{"bigger cap", "PUT", edit(put.URL, "max", "1000000")},
		{"other type", "PUT", edit(put.URL, "ct", "text/html")},
		{"other part", "PUT", edit(part.URL, "part", "2")},
		{"other upload", "PUT", edit(part.URL, "upload", "AAAAAAAAAAAAAAAAAAAAAAAA")},
		{"no query", "GET", srv.URL + "/media-store/k/obj"},
	} {
		code, _, _ := send(t, tc.method, tc.url, map[string]string{"Content-Type": "text/html"}, strings.NewReader("x"))
		if code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tc.name, code)
		}
	}
	// A secret of another store does not verify here.
	other, _ := newDisk(t, media.DiskConfig{Secret: []byte(strings.Repeat("o", 32))})
	foreign, _ := other.PresignGet(ctx, "k/obj", media.GetOptions{})
	if code, _, _ := send(t, "GET", srv.URL+strings.TrimPrefix(foreign.URL, foreign.URL[:strings.Index(foreign.URL, "/media-store/")]), nil, nil); code != http.StatusForbidden {
		t.Errorf("a URL signed with another secret: %d, want 403", code)
	}
}

func TestDiskHandlerRefusesBadRequests(t *testing.T) {
	s, srv := newDisk(t, media.DiskConfig{})
	ctx := context.Background()
	if _, err := s.Put(ctx, "k/obj", strings.NewReader("hello"), 5, "text/plain"); err != nil {
		t.Fatal(err)
	}
	get, _ := s.PresignGet(ctx, "k/obj", media.GetOptions{})
	put, _ := s.PresignPut(ctx, "k/new", media.PutOptions{ContentType: "video/mp4"})
	for _, tc := range []struct {
		name, method, url string
		want              int
	}{
		{"PUT with a GET URL", "PUT", get.URL, http.StatusMethodNotAllowed},
		{"DELETE with a GET URL", "DELETE", get.URL, http.StatusMethodNotAllowed},
		{"GET with a PUT URL", "GET", put.URL, http.StatusMethodNotAllowed},
		{"outside the mount", "GET", srv.URL + "/other/k/obj?" + strings.SplitN(get.URL, "?", 2)[1], http.StatusNotFound},
		{"dot-dot in the path", "GET", srv.URL + "/media-store/k/%2e%2e/%2e%2e/etc/passwd", http.StatusNotFound},
		{"encoded slash escape", "GET", srv.URL + "/media-store/..%2fsecret", http.StatusNotFound},
		{"mount root", "GET", srv.URL + "/media-store/", http.StatusNotFound},
	} {
		if code, _, _ := send(t, tc.method, tc.url, map[string]string{"Content-Type": "video/mp4"}, strings.NewReader("x")); code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.want)
		}
	}
}

func TestDiskPutSizeCap(t *testing.T) {
	s, _ := newDisk(t, media.DiskConfig{})
	ctx := context.Background()
	put, err := s.PresignPut(ctx, "cap/obj", media.PutOptions{ContentType: "video/mp4", MaxSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	// Declared too large: refused before reading.
	if code, _, _ := send(t, "PUT", put.URL, put.Headers, bytes.NewReader(make([]byte, 101))); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("PUT of 101 bytes with Content-Length: %d, want 413", code)
	}
	// Undeclared length (chunked): refused once the cap is passed.
	chunked := io.MultiReader(bytes.NewReader(make([]byte, 60)), bytes.NewReader(make([]byte, 90)))
	if code, _, _ := send(t, "PUT", put.URL, put.Headers, chunked); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked PUT of 150 bytes: %d, want 413", code)
	}
	if _, err := s.Stat(ctx, "cap/obj"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Stat after refused PUTs: %v, want ErrNotFound", err)
	}
	if code, _, _ := send(t, "PUT", put.URL, put.Headers, bytes.NewReader(make([]byte, 100))); code != http.StatusOK {
		t.Fatalf("PUT of exactly the cap: %d, want 200", code)
	}
	if _, err := s.PresignPut(ctx, "cap/obj", media.PutOptions{ContentType: "video/mp4", MaxSize: media.MaxPartSize + 1}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("PresignPut beyond 5 GiB: %v, want ErrInvalid", err)
	}
	if _, err := s.PresignPut(ctx, "cap/obj", media.PutOptions{ContentType: "video/mp4", MaxSize: -1}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("PresignPut with a negative cap: %v, want ErrInvalid", err)
	}
	assertNoTemps(t, s)
}

// assertNoTemps checks that nothing is left in the store's tmp directory.
func assertNoTemps(t *testing.T, s *media.DiskStore) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.Root(), "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left in tmp: %s", e.Name())
	}
}

func TestDiskMultipartSizeCap(t *testing.T) {
	s, _ := newDisk(t, media.DiskConfig{})
	ctx := context.Background()
	id, err := s.CreateMultipartUpload(ctx, "cap/mp", media.MultipartOptions{ContentType: "video/mp4", MaxSize: media.MinPartSize + 10})
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := s.PresignPart(ctx, "cap/mp", id, 1, time.Minute)
	p2, _ := s.PresignPart(ctx, "cap/mp", id, 2, time.Minute)
	if code, _, _ := send(t, "PUT", p1.URL, nil, bytes.NewReader(make([]byte, media.MinPartSize+11))); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a part over the upload's cap: %d, want 413", code)
	}
	_, h1, _ := send(t, "PUT", p1.URL, nil, bytes.NewReader(make([]byte, media.MinPartSize)))
	_, h2, _ := send(t, "PUT", p2.URL, nil, bytes.NewReader(make([]byte, 11)))
	_, err = s.CompleteMultipartUpload(ctx, "cap/mp", id, []media.Part{{Number: 1, ETag: h1.Get("ETag")}, {Number: 2, ETag: h2.Get("ETag")}})
	if !errors.Is(err, errs.ErrTooLarge) {
		t.Fatalf("completing past the cap: %v, want ErrTooLarge", err)
	}
	if _, err := s.Stat(ctx, "cap/mp"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Stat after the refused completion: %v", err)
	}
	// The upload is still there: a smaller last part completes.
	_, h2, _ = send(t, "PUT", p2.URL, nil, bytes.NewReader(make([]byte, 10)))
	if info, err := s.CompleteMultipartUpload(ctx, "cap/mp", id, []media.Part{{Number: 1, ETag: h1.Get("ETag")}, {Number: 2, ETag: h2.Get("ETag")}}); err != nil || info.Size != media.MinPartSize+10 {
		t.Fatalf("completing at the cap: %+v, %v", info, err)
	}
	assertNoTemps(t, s)
}

func TestDiskPresignPartChecksUpload(t *testing.T) {
	s, _ := newDisk(t, media.DiskConfig{})
	ctx := context.Background()
	id, err := s.CreateMultipartUpload(ctx, "u/a", media.MultipartOptions{ContentType: "video/mp4"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, id string }{
		{"u/b", id},                             // upload of another key
		{"u/a", "AAAAAAAAAAAAAAAAAAAAAAAA"},     // unknown id
		{"u/a", "../../objects/x/aaaaaaaaaaaa"}, // not an id at all
	} {
		if _, err := s.PresignPart(ctx, tc.key, tc.id, 1, time.Minute); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("PresignPart(%q, %q) = %v, want ErrNotFound", tc.key, tc.id, err)
		}
	}
}

func TestDiskGetExtras(t *testing.T) {
	s, _ := newDisk(t, media.DiskConfig{})
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789"), 100)
	if _, err := s.Put(ctx, "g/obj.pdf", bytes.NewReader(data), int64(len(data)), "application/pdf"); err != nil {
		t.Fatal(err)
	}
	get, _ := s.PresignGet(ctx, "g/obj.pdf", media.GetOptions{})
	etag := `"` + md5hex(data) + `"`
	code, h, body := send(t, "HEAD", get.URL, nil, nil)
	if code != http.StatusOK || h.Get("Content-Length") != "1000" || len(body) != 0 {
		t.Fatalf("HEAD: %d, Content-Length %q, %d bytes", code, h.Get("Content-Length"), len(body))
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Disposition") != "" {
		t.Fatalf("headers: %v", h)
	}
	if code, _, body := send(t, "GET", get.URL, map[string]string{"Range": "bytes=0-9", "If-Range": `"other"`}, nil); code != http.StatusOK || len(body) != 1000 {
		t.Fatalf("If-Range with another ETag: %d, %d bytes; want the whole object", code, len(body))
	}
	if code, _, _ := send(t, "GET", get.URL, map[string]string{"If-None-Match": etag}, nil); code != http.StatusNotModified {
		t.Fatalf("If-None-Match with the ETag: %d, want 304", code)
	}
	if code, _, _ := send(t, "GET", get.URL, map[string]string{"Range": "bytes=5000-"}, nil); code != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("range past the end: %d, want 416", code)
	}
	// Preflight for a browser on another origin, and ETag readable by scripts.
	code, h, _ = send(t, "OPTIONS", get.URL, map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"}, nil)
	if code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "PUT") {
		t.Fatalf("preflight: %d %v", code, h)
	}
	if _, h, _ := send(t, "GET", get.URL, nil, nil); !strings.Contains(h.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("ETag is not exposed: %v", h)
	}
}

func TestDiskKeyClashesWithDirectory(t *testing.T) {
	s, _ := newDisk(t, media.DiskConfig{})
	ctx := context.Background()
	put := func(key string) error {
		_, err := s.Put(ctx, key, strings.NewReader("x"), 1, "text/plain")
		return err
	}
	if err := put("a"); err != nil {
		t.Fatal(err)
	}
	if err := put("a/b"); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf(`Put("a/b") over the object "a": %v, want ErrConflict`, err)
	}
	if err := put("x/y"); err != nil {
		t.Fatal(err)
	}
	if err := put("x"); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf(`Put("x") over the directory of "x/y": %v, want ErrConflict`, err)
	}
	// Over HTTP the clash is a 409, and nothing changed.
	req, _ := s.PresignPut(ctx, "x", media.PutOptions{ContentType: "text/plain"})
	if code, _, _ := send(t, "PUT", req.URL, req.Headers, strings.NewReader("y")); code != http.StatusConflict {
		t.Fatalf("PUT over a directory: %d, want 409", code)
	}
	if _, err := s.Stat(ctx, "x"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf(`Stat("x") = %v, want ErrNotFound`, err)
	}
	if err := s.Delete(ctx, "x"); err != nil {
		t.Fatalf(`Delete("x") of a directory: %v`, err)
	}
	if _, err := s.Stat(ctx, "x/y"); err != nil {
		t.Fatalf(`"x/y" was hurt: %v`, err)
	}
	assertNoTemps(t, s)
}

func TestDiskAdoptsFilesCopiedIn(t *testing.T) {
	s, srv := newDisk(t, media.DiskConfig{})
	_ = srv
	ctx := context.Background()
	// A restore from backup copies bytes without sidecars.
	pdf := []byte("%PDF-1.7\n" + strings.Repeat("x", 2000))
	dir := filepath.Join(s.Root(), "objects", "restored")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.pdf"), pdf, 0o640); err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(ctx, "restored/a.pdf")
	if err != nil || info.ContentType != "application/pdf" || info.ETag != md5hex(pdf) || info.Size != int64(len(pdf)) {
		t.Fatalf("Stat of a copied-in file = %+v, %v", info, err)
	}
	var keys []string
	for info, err := range s.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	if fmt.Sprint(keys) != "[restored/a.pdf]" {
		t.Fatalf("List = %v (sidecars must not show)", keys)
	}
}

func TestDiskConcurrentPutsToOneKey(t *testing.T) {
	s, _ := newDisk(t, media.DiskConfig{})
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			data := bytes.Repeat([]byte{byte('a' + i)}, 100_000+i)
			req, err := s.PresignPut(ctx, "same/key", media.PutOptions{ContentType: "video/mp4"})
			if err != nil {
				t.Error(err)
				return
			}
			if code, _, _ := send(t, "PUT", req.URL, req.Headers, bytes.NewReader(data)); code != http.StatusOK {
				t.Errorf("PUT %d: %d", i, code)
			}
		})
	}
	wg.Wait()
	info, err := s.Stat(ctx, "same/key")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := s.ReadRange(ctx, "same/key", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	i := int(got[0] - 'a')
	if want := bytes.Repeat([]byte{got[0]}, 100_000+i); !bytes.Equal(got, want) {
		t.Fatalf("the object mixes uploads: %d bytes", len(got))
	}
	if info.Size != int64(len(got)) || info.ETag != md5hex(got) {
		t.Fatalf("Stat %+v does not describe the content (%d bytes, %s)", info, len(got), md5hex(got))
	}
	assertNoTemps(t, s)
}

func TestDiskRemoveStaleUploads(t *testing.T) {
	clk := clock.NewFixed(t0)
	s, _ := newDisk(t, media.DiskConfig{Clock: clk.Now})
	ctx := context.Background()
	old, _ := s.CreateMultipartUpload(ctx, "st/old", media.MultipartOptions{ContentType: "video/mp4"})
	clk.Advance(48 * time.Hour)
	fresh, _ := s.CreateMultipartUpload(ctx, "st/fresh", media.MultipartOptions{ContentType: "video/mp4"})
	// Temporary files a crash left, one of them long ago.
	for _, name := range []string{"complete-old", "put-fresh"} {
		if err := os.WriteFile(filepath.Join(s.Root(), "tmp", name), []byte("debris"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(filepath.Join(s.Root(), "tmp", "complete-old"), t0, t0); err != nil {
		t.Fatal(err)
	}
	n, err := s.RemoveStaleUploads(clk.Now().Add(-24 * time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("RemoveStaleUploads = %d, %v; want 2", n, err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "tmp", "complete-old")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale temporary file is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "tmp", "put-fresh")); err != nil {
		t.Errorf("the fresh temporary file was removed: %v", err)
	}
	if _, err := s.PresignPart(ctx, "st/old", old, 1, time.Minute); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("the stale upload is still there: %v", err)
	}
	if _, err := s.PresignPart(ctx, "st/fresh", fresh, 1, time.Minute); err != nil {
		t.Fatalf("the fresh upload was removed: %v", err)
	}
}

func TestDiskPingReportsUnavailable(t *testing.T) {
	s, _ := newDisk(t, media.DiskConfig{})
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(s.Root()); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("Ping without its root: %v, want ErrUnavailable", err)
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "media.secret")
	a, err := media.LoadOrCreateSecret(path)
	if err != nil || len(a) < 32 {
		t.Fatalf("first call = %d bytes, %v", len(a), err)
	}
	b, err := media.LoadOrCreateSecret(path)
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("second call returned another secret: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	short := filepath.Join(t.TempDir(), "short")
	os.WriteFile(short, []byte("too short\n"), 0o600)
	if _, err := media.LoadOrCreateSecret(short); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("short secret: %v, want ErrInvalid", err)
	}
	if _, err := media.LoadOrCreateSecret(filepath.Join(t.TempDir(), "no", "dir", "s")); err == nil {
		t.Fatal("a secret in a missing directory was created")
	}
}
