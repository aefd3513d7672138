package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"hoctap/media"
)

type uploadTicket struct {
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

type partETag struct {
	Number int    `json:"number"`
	ETag   string `json:"etag"`
}

// put sends body to a presigned URL and returns the ETag the store answered.
func put(t *testing.T, u string, headers map[string]string, body []byte) string {
	t.Helper()
	req, err := http.NewRequest("PUT", u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		raw, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT: %d %s", resp.StatusCode, raw)
	}
	return resp.Header.Get("ETag")
}

// download fetches a media object through its download URL and returns the SHA-256 of
// the bytes.
func download(t *testing.T, addr, tok, id string) [32]byte {
	t.Helper()
	var obj struct {
		Status string
		URL    string
	}
	api(t, addr, "GET", "/api/v1/media/"+id, tok, nil, 200, &obj)
	resp, err := http.Get(obj.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("download of %s: %d %v", id, resp.StatusCode, err)
	}
	return [32]byte(h.Sum(nil))
}

// testUploadCompletionSurvivesSIGKILL uploads lectures through the disk store (one single
// PUT, then multipart videos) and kills the server during the completion of each video at
// several moments, seen on the store's files: while it joins the parts, once the object is
// in place, once the upload's parts are removed. After each restart: an upload
// acknowledged complete downloads with its exact bytes and a lesson can use it; no record
// is ready without its whole object; an unacknowledged upload is pending, cannot be
// downloaded or used yet, and completing it again succeeds with the exact bytes.
func testUploadCompletionSurvivesSIGKILL(t *testing.T, bin string) {
	cs := newCrashServer(t, bin)
	admin := token(t, cs.addr, "admin", "admin-password-1")
	mediaDir := filepath.Join(cs.dir, "media")

	// A published course to put lectures in.
	var course, module struct{ ID string }
	api(t, cs.addr, "POST", "/api/v1/courses", admin, map[string]any{"code": "VB-01", "title": "Văn bản điện tử", "category": "ky_nang_so"}, 201, &course)
	api(t, cs.addr, "POST", "/api/v1/courses/"+course.ID+"/modules", admin, map[string]any{"title": "Chương 1"}, 201, &module)
	useInLesson := func(id, kind string, want int) {
		t.Helper()
		lesson := map[string]any{"title": "Bài " + id, "kind": kind, "media_id": id, "duration_s": 600}
		if kind == "pdf" {
			lesson = map[string]any{"title": "Bài " + id, "kind": kind, "media_id": id, "pages": 12}
		}
		api(t, cs.addr, "POST", "/api/v1/courses/"+course.ID+"/modules/"+module.ID+"/lessons", admin, lesson, want, nil)
	}

	// An acknowledged single-PUT upload.
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("Quy trình xử lý văn bản điện tử. "), 20000)...)
	var tk uploadTicket
	api(t, cs.addr, "POST", "/api/v1/media/uploads", admin, map[string]any{"filename": "Văn bản.pdf", "content_type": "application/pdf", "size": len(pdf)}, 201, &tk)
	put(t, tk.URL, tk.Headers, pdf)
	api(t, cs.addr, "POST", "/api/v1/media/uploads/"+tk.UploadID+"/complete", admin, nil, 200, nil)
	acked := map[string][32]byte{tk.UploadID: sha256.Sum256(pdf)}
	pdfID := tk.UploadID

	// checkObjects fails if a record is ready without its whole object in the store.
	checkObjects := func(db *mongo.Database) map[string]string {
		t.Helper()
		ctx := context.Background()
		cur, err := db.Collection(media.CollMediaObjects).Find(ctx, bson.M{})
		if err != nil {
			t.Fatal(err)
		}
		var objs []struct {
			ID     string `bson:"_id"`
			Key    string `bson:"key"`
			Size   int64  `bson:"size"`
			Status string `bson:"status"`
		}
		if err := cur.All(ctx, &objs); err != nil {
			t.Fatal(err)
		}
		status := map[string]string{}
		for _, o := range objs {
			status[o.ID] = o.Status
			if o.Status != media.StatusReady {
				continue
			}
			fi, err := os.Stat(filepath.Join(mediaDir, "objects", filepath.FromSlash(o.Key)))
			if err != nil || fi.Size() != o.Size {
				t.Errorf("upload %s is ready but its object is missing or cut: %v", o.ID, err)
			}
		}
		for id := range acked {
			if status[id] != media.StatusReady {
				t.Errorf("upload %s was acknowledged complete but is %q", id, status[id])
			}
		}
		return status
	}

	moments := []struct {
		name string
		seen func(uploadID, multipartID string) bool
	}{
		{"while it joins the parts", func(string, string) bool {
			m, _ := filepath.Glob(filepath.Join(mediaDir, "tmp", "complete-*"))
			for _, f := range m {
				if fi, err := os.Stat(f); err == nil && fi.Size() > 0 {
					return true
				}
			}
			return false
		}},
		{"once the object is in place", func(uploadID, _ string) bool {
			m, _ := filepath.Glob(filepath.Join(mediaDir, "objects", "lectures", "*", "*", uploadID))
			return len(m) > 0
		}},
		{"once the upload's parts are removed", func(_, multipartID string) bool {
			_, err := os.Stat(filepath.Join(mediaDir, "uploads", multipartID))
			return os.IsNotExist(err)
		}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for r, m := range moments {
		// A video just over the single-PUT limit: five parts.
		video := make([]byte, media.SinglePutLimit+1<<20)
		for i := 0; i+8 <= len(video); i += 8 {
			v := rng.Uint64()
			for j := range 8 {
				video[i+j] = byte(v >> (8 * j))
			}
		}
		copy(video, "\x00\x00\x00\x18ftypmp42")
		var tk uploadTicket
		api(t, cs.addr, "POST", "/api/v1/media/uploads", admin, map[string]any{"filename": fmt.Sprintf("Bài giảng %d.mp4", r), "content_type": "video/mp4", "size": len(video)}, 201, &tk)
		if len(tk.Parts) < 2 {
			t.Fatalf("a %d-byte upload got %d parts", len(video), len(tk.Parts))
		}
		var parts []partETag
		var multipartID string
		for i, p := range tk.Parts {
			chunk := video[int64(i)*tk.PartSize : min(int64(i+1)*tk.PartSize, int64(len(video)))]
			parts = append(parts, partETag{p.Number, put(t, p.URL, p.Headers, chunk)})
			u, _ := url.Parse(p.URL)
			multipartID = u.Query().Get("upload")
		}
		sum := sha256.Sum256(video)
		video = nil

		answered, finished := make(chan bool, 1), make(chan struct{})
		go func() {
			status, raw, err := try(http.DefaultClient, cs.addr, "POST", "/api/v1/media/uploads/"+tk.UploadID+"/complete", admin, map[string]any{"parts": parts})
			var obj struct{ Status string }
			answered <- err == nil && status == 200 && json.Unmarshal(raw, &obj) == nil && obj.Status == media.StatusReady
			close(finished)
		}()
		for !m.seen(tk.UploadID, multipartID) {
			select {
			case <-finished:
			case <-time.After(200 * time.Microsecond): // watch closely, but leave the server the CPU
				continue
			}
			break
		}
		cs.kill(t)
		if <-answered {
			acked[tk.UploadID] = sum
			t.Logf("%s: the completion was answered before the kill", m.name)
		}
		var status string
		cs.inspect(t, func(db *mongo.Database) { status = checkObjects(db)[tk.UploadID] })
		debris, _ := filepath.Glob(filepath.Join(mediaDir, "tmp", "*"))
		t.Logf("killed %s: the upload is %q; %d temporary files left", m.name, status, len(debris))
		cs.start(t)
		admin = token(t, cs.addr, "admin", "admin-password-1")

		if _, ok := acked[tk.UploadID]; !ok {
			// Not acknowledged: pending, so neither downloadable nor usable yet (or ready
			// and whole, if the kill came after the record was updated).
			if status == media.StatusPending {
				api(t, cs.addr, "GET", "/api/v1/media/"+tk.UploadID, admin, nil, 409, nil)
				useInLesson(tk.UploadID, "video", 422)
			}
			// The client retries, and the upload completes with its bytes.
			var obj struct{ Status string }
			api(t, cs.addr, "POST", "/api/v1/media/uploads/"+tk.UploadID+"/complete", admin, map[string]any{"parts": parts}, 200, &obj)
			if obj.Status != media.StatusReady {
				t.Fatalf("completing again after the restart: %+v", obj)
			}
			acked[tk.UploadID] = sum
		}
		if got := download(t, cs.addr, admin, tk.UploadID); got != sum {
			t.Errorf("upload %s downloads with other bytes than were uploaded", tk.UploadID)
		}
		useInLesson(tk.UploadID, "video", 201)
	}
	if got := download(t, cs.addr, admin, pdfID); got != sha256.Sum256(pdf) {
		t.Error("the acknowledged PDF downloads with other bytes after the restarts")
	}
	useInLesson(pdfID, "pdf", 201)
	cs.kill(t)
	cs.inspect(t, func(db *mongo.Database) { checkObjects(db) })
}
