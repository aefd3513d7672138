package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"hoctap/accounts"
	"hoctap/internal/miniotest"
	"hoctap/media"
)

// fakeMP4 returns size bytes that sniff as an MP4 video: an ftyp box, then a pattern that
// makes every offset's byte predictable (byte i is i%251).
func fakeMP4(size int64) io.Reader {
	head := []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
	return io.MultiReader(bytes.NewReader(head), io.LimitReader(&patternReader{off: int64(len(head))}, size-int64(len(head))))
}

type patternReader struct{ off int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

type ticket struct {
	UploadID string            `json:"upload_id"`
	URL      string            `json:"url"`
	Headers  map[string]string `json:"headers"`
	PartSize int64             `json:"part_size"`
	Parts    []struct {
		Number  int               `json:"number"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
	} `json:"parts"`
}

// putBytes sends body to a presigned URL and returns the ETag it answered.
func putBytes(t *testing.T, url string, headers map[string]string, body io.Reader, size int64) string {
	t.Helper()
	req, err := http.NewRequest("PUT", url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT to storage: %d %s", resp.StatusCode, raw)
	}
	return resp.Header.Get("ETag")
}

// uploadFile runs the whole upload: start, send (single or in parts), complete.
func uploadFile(t *testing.T, ts *testServer, token, name, contentType string, size int64, body func() io.Reader) media.Object {
	t.Helper()
	var tk ticket
	ts.call(t, "POST", "/api/v1/media/uploads", token, map[string]any{"filename": name, "content_type": contentType, "size": size}, http.StatusCreated, &tk)
	complete := map[string]any{}
	if tk.URL != "" {
		putBytes(t, tk.URL, tk.Headers, body(), size)
	} else {
		r := body()
		var parts []map[string]any
		for _, p := range tk.Parts {
			n := min(tk.PartSize, size-int64(p.Number-1)*tk.PartSize)
			etag := putBytes(t, p.URL, p.Headers, io.LimitReader(r, n), n)
			parts = append(parts, map[string]any{"number": p.Number, "etag": etag})
		}
		complete["parts"] = parts
	}
	var obj media.Object
	ts.call(t, "POST", "/api/v1/media/uploads/"+tk.UploadID+"/complete", token, complete, http.StatusOK, &obj)
	return obj
}

// lecturerFixture makes a unit, two lecturers and a learner, and returns their tokens.
func lecturerFixture(t *testing.T, ts *testServer) (lecturer, otherLecturer, learner string) {
	t.Helper()
	admin := ts.adminToken(t)
	_, district, _ := unitFixture(t, ts, admin)
	createUser(t, ts, admin, "lecturer1", district, accounts.RoleLecturer)
	createUser(t, ts, admin, "lecturer2", district, accounts.RoleLecturer)
	createUser(t, ts, admin, "learner1", district, accounts.RoleLearner)
	return ts.login(t, "lecturer1", "password-123"), ts.login(t, "lecturer2", "password-123"), ts.login(t, "learner1", "password-123")
}

// checkRangeRead fetches bytes [from, from+n) of the object's download URL and compares
// them with the pattern.
func checkRangeRead(t *testing.T, ts *testServer, token string, obj media.Object, from, n int64) {
	t.Helper()
	var got media.Object
	ts.call(t, "GET", "/api/v1/media/"+obj.ID, token, nil, http.StatusOK, &got)
	if got.URL == "" || got.ContentType != "video/mp4" || got.Size != obj.Size {
		t.Fatalf("media answer %+v", got)
	}
	req, _ := http.NewRequest("GET", got.URL, nil)
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, from+n-1))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusPartialContent || int64(len(data)) != n {
		t.Fatalf("Range read: status %d, %d bytes, want 206 and %d", resp.StatusCode, len(data), n)
	}
	want := make([]byte, n)
	(&patternReader{off: from}).Read(want)
	if !bytes.Equal(data, want) {
		t.Fatal("the Range read returned other bytes than were uploaded")
	}
}

func TestUploadAndSeekOnTheDiskStore(t *testing.T) {
	ts := newTestServer(t)
	lecturer, other, learner := lecturerFixture(t, ts)
	const size = 3 << 20
	obj := uploadFile(t, ts, lecturer, "Bài 1 – Nhập môn.mp4", "video/mp4", size, func() io.Reader { return fakeMP4(size) })
	if obj.Status != media.StatusReady || obj.Filename != "Bài 1 – Nhập môn.mp4" {
		t.Fatalf("completed object %+v", obj)
	}
	checkRangeRead(t, ts, lecturer, obj, size/2, 4096)

	ts.callErr(t, "GET", "/api/v1/media/"+obj.ID, other, nil, http.StatusNotFound, "not_found")
	ts.callErr(t, "GET", "/api/v1/media/"+obj.ID, learner, nil, http.StatusNotFound, "not_found")
	ts.callErr(t, "GET", "/api/v1/media/"+obj.ID, "", nil, http.StatusUnauthorized, "unauthenticated")
	ts.callErr(t, "POST", "/api/v1/media/uploads/"+obj.ID+"/complete", other, map[string]any{}, http.StatusNotFound, "not_found")
	ts.callErr(t, "POST", "/api/v1/media/uploads", learner, map[string]any{"filename": "a.mp4", "content_type": "video/mp4", "size": 10}, http.StatusForbidden, "forbidden")
}

func TestBadUploadsAreRefusedAndLeaveNothing(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxUploadMB = 5 })
	lecturer, _, _ := lecturerFixture(t, ts)
	tests := []struct {
		name, filename, contentType string
		size                        int64
		status                      int
		code, field                 string
	}{
		{"path separators", "../../etc/passwd.mp4", "video/mp4", 100, 422, "invalid", "filename"},
		{"backslash", `C:\Users\x.mp4`, "video/mp4", 100, 422, "invalid", "filename"},
		{"control character", "bai\x00giang.mp4", "video/mp4", 100, 422, "invalid", "filename"},
		{"500 characters", strings.Repeat("a", 496) + ".mp4", "video/mp4", 100, 422, "invalid", "filename"},
		{"only dots", "...", "video/mp4", 100, 422, "invalid", "filename"},
		{"empty name", "", "video/mp4", 100, 422, "invalid", "filename"},
		{"disallowed type", "page.html", "text/html", 100, 422, "invalid", "content_type"},
		{"executable", "setup.exe", "application/x-msdownload", 100, 422, "invalid", "content_type"},
		{"zero size", "a.mp4", "video/mp4", 0, 422, "invalid", "size"},
		{"over the limit", "big.mp4", "video/mp4", 6 << 20, 413, "too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ts.callErr(t, "POST", "/api/v1/media/uploads", lecturer,
				map[string]any{"filename": tt.filename, "content_type": tt.contentType, "size": tt.size}, tt.status, tt.code)
			if _, ok := e.Error.Fields[tt.field]; tt.field != "" && !ok {
				t.Errorf("fields %v do not name %s", e.Error.Fields, tt.field)
			}
		})
	}
	if n := ts.count(t, media.CollMediaObjects); n != 0 {
		t.Fatalf("refused uploads left %d records", n)
	}

	// A file declared as a video that is really HTML is refused on completion and deleted.
	html := []byte("<!doctype html><html><script>alert(1)</script></html>")
	var tk ticket
	ts.call(t, "POST", "/api/v1/media/uploads", lecturer, map[string]any{"filename": "video.mp4", "content_type": "video/mp4", "size": len(html)}, http.StatusCreated, &tk)
	putBytes(t, tk.URL, tk.Headers, bytes.NewReader(html), int64(len(html)))
	ts.callErr(t, "POST", "/api/v1/media/uploads/"+tk.UploadID+"/complete", lecturer, map[string]any{}, http.StatusUnprocessableEntity, "invalid")
	if n := ts.count(t, media.CollMediaObjects); n != 0 {
		t.Fatalf("a rejected upload left %d records", n)
	}
	for obj, err := range ts.svc.Store.List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		t.Fatalf("a rejected upload left %s in storage", obj.Key)
	}

	// Completing before sending anything is refused and keeps the pending upload.
	ts.call(t, "POST", "/api/v1/media/uploads", lecturer, map[string]any{"filename": "later.pdf", "content_type": "application/pdf", "size": 1000}, http.StatusCreated, &tk)
	ts.callErr(t, "POST", "/api/v1/media/uploads/"+tk.UploadID+"/complete", lecturer, map[string]any{}, http.StatusUnprocessableEntity, "invalid")
}

// TestLargeMultipartUploadToMinIO sends a 101 MB video in parts straight to a real MinIO
// and seeks into its middle.
func TestLargeMultipartUploadToMinIO(t *testing.T) {
	m := miniotest.Start(t)
	ts := newTestServer(t, func(c *Config) {
		c.S3Endpoint, c.S3AccessKey, c.S3SecretKey, c.S3Bucket = m.Endpoint, m.AccessKey, m.SecretKey, m.Bucket(t)
	})
	lecturer, _, _ := lecturerFixture(t, ts)
	const size = 101 << 20
	obj := uploadFile(t, ts, lecturer, "Hội nghị toàn quốc.mp4", "video/mp4", size, func() io.Reader { return fakeMP4(size) })
	if obj.Size != size || obj.Status != media.StatusReady {
		t.Fatalf("object %+v", obj)
	}
	checkRangeRead(t, ts, lecturer, obj, 60<<20, 1<<20)

	var ready struct{ Checks map[string]string }
	ts.call(t, "GET", "/readyz", "", nil, http.StatusOK, &ready)
	if ready.Checks["storage"] != "ok" {
		t.Fatalf("readyz: %+v", ready)
	}
}

// TestReadyzNamesStorageWhenMinIOIsDown points the server at a MinIO that is not there:
// /readyz answers 503 naming storage, uploads fail fast with 503, the rest keeps working.
func TestReadyzNamesStorageWhenMinIOIsDown(t *testing.T) {
	ln := listen(t)
	dead := ln.Addr().String()
	ln.Close()
	ts := newTestServer(t, func(c *Config) {
		c.S3Endpoint, c.S3AccessKey, c.S3SecretKey, c.S3Bucket = dead, "minioadmin", "minioadmin", "hoctap"
	})
	var ready struct {
		Status string
		Down   []string
		Checks map[string]string
	}
	ts.call(t, "GET", "/readyz", "", nil, http.StatusServiceUnavailable, &ready)
	if ready.Status != "unavailable" || len(ready.Down) != 1 || ready.Down[0] != "storage" || ready.Checks["database"] != "ok" {
		t.Fatalf("readyz: %+v", ready)
	}
	lecturer, _, _ := lecturerFixture(t, ts)
	ts.callErr(t, "POST", "/api/v1/media/uploads", lecturer, map[string]any{"filename": "a.mp4", "content_type": "video/mp4", "size": 100}, http.StatusServiceUnavailable, "unavailable")
	if n := ts.count(t, media.CollMediaObjects); n != 0 {
		t.Fatalf("a failed upload left %d records", n)
	}
}
