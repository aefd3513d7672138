package media_test

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hoctap/accounts"
	"hoctap/internal/clock"
	"hoctap/internal/dbtest"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
	"hoctap/media"
)

// TestCompleteAfterACrashBetweenStoreAndRecord: a server killed after the store completed
// a multipart upload but before the record said so leaves the object whole, the store's
// upload gone and the record pending. Completing again makes it ready (the store answers
// "no such upload" now, on disk as on S3). An upload the store aborted cannot be
// completed: a clear conflict, the record stays pending, and the purge removes it, along
// with the temporary file of a join the crash cut short.
func TestCompleteAfterACrashBetweenStoreAndRecord(t *testing.T) {
	disk, _ := newDisk(t, media.DiskConfig{})
	db := dbtest.New(t)
	clk := clock.NewFixed(t0)
	svc := media.NewService(media.ServiceConfig{DB: db.Database, Store: disk, Now: clk.Now, MaxUploadBytes: 100 << 20})
	ctx := t.Context()
	if err := svc.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	lecturer := accounts.Principal{User: accounts.User{ID: ids.New(), Roles: []accounts.Role{accounts.RoleLecturer}, Active: true}}
	video := make([]byte, media.SinglePutLimit+1)
	copy(video, "\x00\x00\x00\x18ftypmp42")
	for i := 16; i < len(video); i += 4099 {
		video[i] = byte(i)
	}

	tk, err := svc.CreateUpload(ctx, lecturer, media.NewUpload{Filename: "bai-giang.mp4", ContentType: "video/mp4", Size: int64(len(video))})
	if err != nil || len(tk.Parts) < 2 {
		t.Fatalf("CreateUpload: %+v, %v", tk, err)
	}
	var parts []media.Part
	for i, p := range tk.Parts {
		chunk := video[int64(i)*tk.PartSize : min(int64(i+1)*tk.PartSize, int64(len(video)))]
		code, h, body := send(t, "PUT", p.URL, p.Headers, bytes.NewReader(chunk))
		if code != http.StatusOK {
			t.Fatalf("part %d: %d %s", p.Number, code, body)
		}
		parts = append(parts, media.Part{Number: p.Number, ETag: h.Get("ETag")})
	}
	// What the killed request did: the store's completion, and nothing after it.
	pending, err := svc.FindObject(ctx, tk.UploadID)
	if err != nil || pending.MultipartID == "" {
		t.Fatalf("FindObject: %+v, %v", pending, err)
	}
	if _, err := disk.CompleteMultipartUpload(ctx, pending.Key, pending.MultipartID, parts); err != nil {
		t.Fatal(err)
	}
	obj, err := svc.CompleteUpload(ctx, lecturer, tk.UploadID, parts)
	if err != nil || obj.Status != media.StatusReady || obj.Size != int64(len(video)) || obj.ContentType != "video/mp4" {
		t.Fatalf("completing again after the crash: %+v, %v", obj, err)
	}
	got, err := svc.GetObject(ctx, lecturer, tk.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, body := send(t, "GET", got.URL, nil, nil); code != http.StatusOK || !bytes.Equal(body, video) {
		t.Fatalf("download: %d, %d bytes, equal %v", code, len(body), bytes.Equal(body, video))
	}

	// An upload the store no longer has, and no object.
	tk2, err := svc.CreateUpload(ctx, lecturer, media.NewUpload{Filename: "bo.mp4", ContentType: "video/mp4", Size: int64(len(video))})
	if err != nil {
		t.Fatal(err)
	}
	gone, _ := svc.FindObject(ctx, tk2.UploadID)
	if err := disk.AbortMultipartUpload(ctx, gone.Key, gone.MultipartID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CompleteUpload(ctx, lecturer, tk2.UploadID, parts); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("completing an aborted upload: %v, want ErrConflict", err)
	}
	if o, err := svc.FindObject(ctx, tk2.UploadID); err != nil || o.Status != media.StatusPending {
		t.Fatalf("the aborted upload's record: %+v, %v", o, err)
	}
	// A join killed half-way left its temporary file; the purge clears it too once old.
	debris := filepath.Join(disk.Root(), "tmp", "complete-killed")
	if err := os.WriteFile(debris, video[:1<<20], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(debris, t0, t0); err != nil {
		t.Fatal(err)
	}
	clk.Advance(25 * time.Hour)
	if n, err := svc.PurgeAbandonedUploads(ctx, 24*time.Hour); err != nil || n != 1 {
		t.Fatalf("PurgeAbandonedUploads: %d, %v", n, err)
	}
	if _, err := os.Stat(debris); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary file of the killed join is still there: %v", err)
	}
	if _, err := svc.FindObject(ctx, tk2.UploadID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("the purged record: %v", err)
	}
	if o, err := svc.FindObject(ctx, tk.UploadID); err != nil || o.Status != media.StatusReady {
		t.Fatalf("the purge touched the ready upload: %+v, %v", o, err)
	}
}
