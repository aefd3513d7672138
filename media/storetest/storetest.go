// Package storetest is the contract test suite every media.Store must pass. The same suite
// runs against the disk store (served by an httptest.Server around its Handler) and the MinIO
// store (a real MinIO server), so the browser code and the upload service can rely on one
// behaviour whichever store a deployment uses.
package storetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"hoctap/internal/errs"
	"hoctap/media"
)

// Run runs the contract. newStore must return a store holding no objects (a fresh directory
// or bucket) each time it is called; client makes the requests a browser would make with
// the presigned URLs.
func Run(t *testing.T, newStore func(t *testing.T) media.Store, client *http.Client) {
	c := &suite{client: client}
	tests := []struct {
		name string
		fn   func(t *testing.T, s media.Store)
	}{
		{"PresignedPutThenStat", c.presignedPutThenStat},
		{"PresignedGetAndRange", c.presignedGetAndRange},
		{"ReadRange", c.readRange},
		{"UploadWithOtherContentTypeRefused", c.otherContentTypeRefused},
		{"TamperedURLRefused", c.tamperedURLRefused},
		{"ExpiredURLRefused", c.expiredURLRefused},
		{"MultipartUpload", c.multipartUpload},
		{"MultipartBadCompletionChangesNothing", c.multipartBadCompletion},
		{"AbortLeavesNothing", c.abortLeavesNothing},
		{"DeleteThenStat", c.deleteThenStat},
		{"ListByPrefix", c.listByPrefix},
		{"PutChecksSize", c.putChecksSize},
		{"InvalidKeysRefused", c.invalidKeysRefused},
		{"MissingObject", c.missingObject},
		{"BrowserOnAnotherOrigin", c.browserOnAnotherOrigin},
		{"Ping", c.ping},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

type suite struct {
	client *http.Client
}

// payload returns n deterministic pseudo-random bytes that start like an MP4 file.
func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n - n%8; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	copy(b, "\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41")
	return b
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do makes a request as a browser would.
func (c *suite) do(t *testing.T, method, u string, headers map[string]string, body []byte) response {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// upload puts data at key with a presigned PUT and checks the answer.
func (c *suite) upload(t *testing.T, s media.Store, key, ct string, data []byte) {
	t.Helper()
	req, err := s.PresignPut(context.Background(), key, media.PutOptions{ContentType: ct, MaxSize: int64(len(data)) + 1})
	if err != nil {
		t.Fatalf("PresignPut: %v", err)
	}
	resp := c.do(t, req.Method, req.URL, req.Headers, data)
	if resp.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", resp.status, resp.body)
	}
	if got, want := resp.header.Get("ETag"), `"`+md5hex(data)+`"`; got != want {
		t.Fatalf("PUT ETag = %s, want %s", got, want)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func (c *suite) presignedPutThenStat(t *testing.T, s media.Store) {
	ctx := context.Background()
	data := payload(100_000, 1)
	req, err := s.PresignPut(ctx, "lectures/c1/video.mp4", media.PutOptions{ContentType: "video/mp4", Expiry: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPut || req.Headers["Content-Type"] != "video/mp4" {
		t.Fatalf("presigned request: %+v", req)
	}
	if d := time.Until(req.Expires); d < 9*time.Minute || d > 11*time.Minute {
		t.Fatalf("Expires = %v, want about 10 minutes from now", req.Expires)
	}
	resp := c.do(t, req.Method, req.URL, req.Headers, data)
	if resp.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", resp.status, resp.body)
	}
	info, err := s.Stat(ctx, "lectures/c1/video.mp4")
	if err != nil {
		t.Fatal(err)
	}
	if info.Key != "lectures/c1/video.mp4" || info.Size != int64(len(data)) || info.ContentType != "video/mp4" || info.ETag != md5hex(data) {
		t.Fatalf("Stat = %+v, want size %d, video/mp4, etag %s", info, len(data), md5hex(data))
	}
	if info.LastModified.IsZero() {
		t.Fatal("Stat has no LastModified")
	}
	// Uploading again replaces the object.
	c.upload(t, s, "lectures/c1/video.mp4", "video/mp4", data[:1000])
	if info, err = s.Stat(ctx, "lectures/c1/video.mp4"); err != nil || info.Size != 1000 {
		t.Fatalf("Stat after replacing = %+v, %v", info, err)
	}
}

func (c *suite) presignedGetAndRange(t *testing.T, s media.Store) {
	ctx := context.Background()
	data := payload(70_000, 2)
	key := "lectures/c2/bài 1.mp4"
	c.upload(t, s, key, "video/mp4", data)
	etag := `"` + md5hex(data) + `"`

	get, err := s.PresignGet(ctx, key, media.GetOptions{Expiry: time.Minute, Filename: "Bài giảng 1 \"mở đầu\".mp4"})
	if err != nil {
		t.Fatal(err)
	}
	full := c.do(t, http.MethodGet, get.URL, nil, nil)
	if full.status != http.StatusOK || !bytes.Equal(full.body, data) {
		t.Fatalf("GET: %d, %d bytes (want 200, %d bytes)", full.status, len(full.body), len(data))
	}
	if ct := full.header.Get("Content-Type"); ct != "video/mp4" {
		t.Fatalf("GET Content-Type = %q", ct)
	}
	if got := full.header.Get("ETag"); got != etag {
		t.Fatalf("GET ETag = %s, want %s", got, etag)
	}
	wantCD := media.ContentDisposition("Bài giảng 1 \"mở đầu\".mp4", false)
	if cd := full.header.Get("Content-Disposition"); cd != wantCD {
		t.Fatalf("Content-Disposition = %q, want %q", cd, wantCD)
	}

	for _, tc := range []struct {
		rng        string
		from, to   int // inclusive
		wantStatus int
	}{
		{"bytes=10-19", 10, 19, http.StatusPartialContent},
		{"bytes=65536-", 65536, len(data) - 1, http.StatusPartialContent},
		{"bytes=-5", len(data) - 5, len(data) - 1, http.StatusPartialContent},
		{"bytes=0-0", 0, 0, http.StatusPartialContent},
		{"bytes=69990-80000", 69990, len(data) - 1, http.StatusPartialContent},
	} {
		resp := c.do(t, http.MethodGet, get.URL, map[string]string{"Range": tc.rng}, nil)
		if resp.status != tc.wantStatus || !bytes.Equal(resp.body, data[tc.from:tc.to+1]) {
			t.Fatalf("Range %s: %d, %d bytes; want %d, bytes %d-%d", tc.rng, resp.status, len(resp.body), tc.wantStatus, tc.from, tc.to)
		}
		wantCR := fmt.Sprintf("bytes %d-%d/%d", tc.from, tc.to, len(data))
		if cr := resp.header.Get("Content-Range"); cr != wantCR {
			t.Fatalf("Range %s: Content-Range %q, want %q", tc.rng, cr, wantCR)
		}
	}
	if resp := c.do(t, http.MethodGet, get.URL, map[string]string{"Range": "bytes=80000-"}, nil); resp.status != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("Range past the end: %d, want 416", resp.status)
	}
	// If-Range with the current ETag: the range is honoured.
	if resp := c.do(t, http.MethodGet, get.URL, map[string]string{"Range": "bytes=0-9", "If-Range": etag}, nil); resp.status != http.StatusPartialContent || len(resp.body) != 10 {
		t.Fatalf("If-Range with the current ETag: %d, %d bytes", resp.status, len(resp.body))
	}
	// (MinIO ignores If-Range with another ETag and still answers the range, so what happens
	// then is not part of the contract; keys are written once, so it does not matter.)

	inline, err := s.PresignGet(ctx, key, media.GetOptions{Inline: true, Filename: "a.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if cd := c.do(t, http.MethodGet, inline.URL, map[string]string{"Range": "bytes=0-0"}, nil).header.Get("Content-Disposition"); !strings.HasPrefix(cd, "inline;") {
		t.Fatalf("inline Content-Disposition = %q", cd)
	}
	if _, err := s.PresignGet(ctx, key, media.GetOptions{Filename: "../../etc/passwd"}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("PresignGet with a hostile filename: %v, want ErrInvalid", err)
	}
	if _, err := s.PresignGet(ctx, key, media.GetOptions{Expiry: 8 * 24 * time.Hour}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("PresignGet for 8 days: %v, want ErrInvalid", err)
	}
}

func (c *suite) readRange(t *testing.T, s media.Store) {
	ctx := context.Background()
	data := payload(10_000, 3)
	c.upload(t, s, "r/obj", "video/mp4", data)
	for _, tc := range []struct {
		offset, length int64
		from, to       int
	}{
		{0, 512, 0, 512},
		{100, 50, 100, 150},
		{9990, -1, 9990, 10000},
		{0, -1, 0, 10000},
		{9990, 100, 9990, 10000},
		{10000, 10, 10000, 10000},
		{20000, -1, 10000, 10000},
		{5, 0, 5, 5},
	} {
		rc, err := s.ReadRange(ctx, "r/obj", tc.offset, tc.length)
		if err != nil {
			t.Fatalf("ReadRange(%d, %d): %v", tc.offset, tc.length, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data[tc.from:tc.to]) {
			t.Fatalf("ReadRange(%d, %d): %d bytes, %v; want bytes %d..%d", tc.offset, tc.length, len(got), err, tc.from, tc.to)
		}
	}
	rc, err := s.ReadRange(ctx, "r/obj", 0, media.SniffLength)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := io.ReadAll(rc)
	rc.Close()
	if ct := media.Sniff(head, "x.bin"); ct != "video/mp4" {
		t.Fatalf("Sniff of the first bytes = %q, want video/mp4", ct)
	}
	if _, err := s.ReadRange(ctx, "r/obj", -1, 10); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("ReadRange(-1): %v, want ErrInvalid", err)
	}
}

func (c *suite) otherContentTypeRefused(t *testing.T, s media.Store) {
	ctx := context.Background()
	req, err := s.PresignPut(ctx, "ct/obj", media.PutOptions{ContentType: "application/pdf"})
	if err != nil {
		t.Fatal(err)
	}
	resp := c.do(t, req.Method, req.URL, map[string]string{"Content-Type": "text/html"}, []byte("<script>alert(1)</script>"))
	if resp.status != http.StatusForbidden {
		t.Fatalf("PUT with another Content-Type: %d, want 403", resp.status)
	}
	if _, err := s.Stat(ctx, "ct/obj"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Stat after a refused PUT: %v, want ErrNotFound", err)
	}
	if _, err := s.PresignPut(ctx, "ct/obj", media.PutOptions{}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("PresignPut without a content type: %v, want ErrInvalid", err)
	}
}

// tamper changes one character of the URL's signature.
func tamper(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for _, name := range []string{"sig", "X-Amz-Signature"} {
		if v := q.Get(name); v != "" {
			flip := "0"
			if v[len(v)-1] == '0' {
				flip = "1"
			}
			q.Set(name, v[:len(v)-1]+flip)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	t.Fatalf("no signature parameter in %s", raw)
	return ""
}

func (c *suite) tamperedURLRefused(t *testing.T, s media.Store) {
	ctx := context.Background()
	data := payload(1000, 4)
	c.upload(t, s, "t/secret.pdf", "application/pdf", data)
	c.upload(t, s, "t/other.pdf", "application/pdf", data)
	get, err := s.PresignGet(ctx, "t/other.pdf", media.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if resp := c.do(t, http.MethodGet, tamper(t, get.URL), nil, nil); resp.status != http.StatusForbidden {
		t.Fatalf("GET with a tampered signature: %d, want 403", resp.status)
	}
	// The signature of one key does not open another.
	moved := strings.Replace(get.URL, "/t/other.pdf", "/t/secret.pdf", 1)
	if resp := c.do(t, http.MethodGet, moved, nil, nil); resp.status != http.StatusForbidden {
		t.Fatalf("GET of another key with a signature for t/other.pdf: %d, want 403", resp.status)
	}
	// A download URL does not upload.
	if resp := c.do(t, http.MethodPut, get.URL, map[string]string{"Content-Type": "application/pdf"}, []byte("x")); resp.status < 400 {
		t.Fatalf("PUT with a GET signature: %d, want refusal", resp.status)
	}
	put, err := s.PresignPut(ctx, "t/new.pdf", media.PutOptions{ContentType: "application/pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if resp := c.do(t, http.MethodPut, tamper(t, put.URL), put.Headers, data); resp.status != http.StatusForbidden {
		t.Fatalf("PUT with a tampered signature: %d, want 403", resp.status)
	}
	if _, err := s.Stat(ctx, "t/new.pdf"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Stat after a refused PUT: %v, want ErrNotFound", err)
	}
	if got, _ := s.Stat(ctx, "t/other.pdf"); got.Size != int64(len(data)) {
		t.Fatalf("t/other.pdf changed: %+v", got)
	}
}

func (c *suite) expiredURLRefused(t *testing.T, s media.Store) {
	ctx := context.Background()
	data := payload(1000, 5)
	c.upload(t, s, "e/obj", "video/mp4", data)
	get, err := s.PresignGet(ctx, "e/obj", media.GetOptions{Expiry: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	put, err := s.PresignPut(ctx, "e/new", media.PutOptions{ContentType: "video/mp4", Expiry: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Presigned URLs carry absolute expiry times that the server (MinIO, or the handler)
	// checks against its own clock; the shortest S3 allows is one second, so wait it out.
	time.Sleep(time.Until(get.Expires.Add(1100 * time.Millisecond)))
	if resp := c.do(t, http.MethodGet, get.URL, nil, nil); resp.status != http.StatusForbidden {
		t.Fatalf("GET with an expired URL: %d, want 403", resp.status)
	}
	if resp := c.do(t, http.MethodPut, put.URL, put.Headers, data); resp.status != http.StatusForbidden {
		t.Fatalf("PUT with an expired URL: %d, want 403", resp.status)
	}
	if _, err := s.Stat(ctx, "e/new"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Stat after an expired PUT: %v, want ErrNotFound", err)
	}
}

// uploadPart puts data as part n and returns the ETag header.
func (c *suite) uploadPart(t *testing.T, s media.Store, key, id string, n int, data []byte) string {
	t.Helper()
	req, err := s.PresignPart(context.Background(), key, id, n, time.Minute)
	if err != nil {
		t.Fatalf("PresignPart %d: %v", n, err)
	}
	resp := c.do(t, req.Method, req.URL, req.Headers, data)
	if resp.status != http.StatusOK {
		t.Fatalf("PUT part %d: %d %s", n, resp.status, resp.body)
	}
	etag := resp.header.Get("ETag")
	if etag != `"`+md5hex(data)+`"` {
		t.Fatalf("part %d ETag = %s, want the quoted MD5 %s", n, etag, md5hex(data))
	}
	return etag
}

func (c *suite) multipartUpload(t *testing.T, s media.Store) {
	ctx := context.Background()
	key := "lectures/big/video.webm"
	data := payload(2*media.MinPartSize+1<<20+123, 6)
	chunks := [][]byte{data[:media.MinPartSize], data[media.MinPartSize : 2*media.MinPartSize], data[2*media.MinPartSize:]}
	id, err := s.CreateMultipartUpload(ctx, key, media.MultipartOptions{ContentType: "video/webm"})
	if err != nil {
		t.Fatal(err)
	}
	if id == "" {
		t.Fatal("empty upload id")
	}
	etags := make([]string, 3)
	for _, i := range []int{1, 0, 2} { // parts may arrive in any order
		etags[i] = c.uploadPart(t, s, key, id, i+1, chunks[i])
	}
	// The object does not exist before completion.
	if _, err := s.Stat(ctx, key); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Stat before completion: %v, want ErrNotFound", err)
	}
	info, err := s.CompleteMultipartUpload(ctx, key, id, []media.Part{{Number: 1, ETag: etags[0]}, {Number: 2, ETag: strings.Trim(etags[1], `"`)}, {Number: 3, ETag: etags[2]}})
	if err != nil {
		t.Fatal(err)
	}
	if info.Key != key || info.Size != int64(len(data)) || info.ContentType != "video/webm" || !strings.HasSuffix(info.ETag, "-3") {
		t.Fatalf("completed = %+v, want %d bytes of video/webm with a multipart ETag", info, len(data))
	}
	st, err := s.Stat(ctx, key)
	if err != nil || st.Size != info.Size || st.ETag != info.ETag {
		t.Fatalf("Stat after completion = %+v, %v; want %+v", st, err, info)
	}
	get, err := s.PresignGet(ctx, key, media.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	full := c.do(t, http.MethodGet, get.URL, nil, nil)
	if full.status != http.StatusOK || md5hex(full.body) != md5hex(data) {
		t.Fatalf("GET of the completed object: %d, %d bytes; want the %d uploaded bytes", full.status, len(full.body), len(data))
	}
	// A range across the boundary of parts 1 and 2.
	from, to := media.MinPartSize-100, media.MinPartSize+99
	resp := c.do(t, http.MethodGet, get.URL, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", from, to)}, nil)
	if resp.status != http.StatusPartialContent || !bytes.Equal(resp.body, data[from:to+1]) {
		t.Fatalf("range across parts: %d, %d bytes", resp.status, len(resp.body))
	}
	// The upload is gone once completed.
	if _, err := s.CompleteMultipartUpload(ctx, key, id, []media.Part{{Number: 1, ETag: etags[0]}}); !errors.Is(err, errs.ErrNotFound) && !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("completing twice: %v, want ErrNotFound or ErrInvalid", err)
	}
}

func (c *suite) multipartBadCompletion(t *testing.T, s media.Store) {
	ctx := context.Background()
	key := "mp/bad.pdf"
	id, err := s.CreateMultipartUpload(ctx, key, media.MultipartOptions{ContentType: "application/pdf"})
	if err != nil {
		t.Fatal(err)
	}
	small1, small2 := payload(1000, 7), payload(1000, 8)
	e1 := c.uploadPart(t, s, key, id, 1, small1)
	e2 := c.uploadPart(t, s, key, id, 2, small2)
	for _, tc := range []struct {
		name  string
		parts []media.Part
		want  error
	}{
		{"a part but the last under 5 MiB", []media.Part{{Number: 1, ETag: e1}, {Number: 2, ETag: e2}}, errs.ErrInvalid},
		{"a wrong ETag", []media.Part{{Number: 1, ETag: `"00000000000000000000000000000000"`}}, errs.ErrInvalid},
		{"a part never uploaded", []media.Part{{Number: 3, ETag: e1}}, errs.ErrInvalid},
		{"parts out of order", []media.Part{{Number: 2, ETag: e2}, {Number: 1, ETag: e1}}, errs.ErrInvalid},
		{"no parts", nil, errs.ErrInvalid},
	} {
		_, err := s.CompleteMultipartUpload(ctx, key, id, tc.parts)
		wantErr(t, tc.name, err, tc.want)
		if _, err := s.Stat(ctx, key); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("%s: Stat after the refused completion: %v, want ErrNotFound", tc.name, err)
		}
	}
	if _, err := s.PresignPart(ctx, key, id, 0, time.Minute); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("PresignPart 0: %v, want ErrInvalid", err)
	}
	if _, err := s.PresignPart(ctx, key, id, media.MaxParts+1, time.Minute); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("PresignPart %d: %v, want ErrInvalid", media.MaxParts+1, err)
	}
	// A single small part is a whole (last) part: it completes.
	info, err := s.CompleteMultipartUpload(ctx, key, id, []media.Part{{Number: 1, ETag: e1}})
	if err != nil || info.Size != 1000 {
		t.Fatalf("completing with one part: %+v, %v", info, err)
	}
	if _, err := s.CompleteMultipartUpload(ctx, key, "no-such-upload-id-at-all", []media.Part{{Number: 1, ETag: e1}}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("completing an unknown upload: %v, want ErrNotFound", err)
	}
	if _, err := s.CreateMultipartUpload(ctx, key, media.MultipartOptions{}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("CreateMultipartUpload without a content type: %v, want ErrInvalid", err)
	}
}

func (c *suite) abortLeavesNothing(t *testing.T, s media.Store) {
	ctx := context.Background()
	key := "ab/video.mp4"
	id, err := s.CreateMultipartUpload(ctx, key, media.MultipartOptions{ContentType: "video/mp4"})
	if err != nil {
		t.Fatal(err)
	}
	e1 := c.uploadPart(t, s, key, id, 1, payload(media.MinPartSize, 9))
	later, err := s.PresignPart(ctx, key, id, 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AbortMultipartUpload(ctx, key, id); err != nil {
		t.Fatal(err)
	}
	if resp := c.do(t, later.Method, later.URL, later.Headers, payload(1000, 10)); resp.status != http.StatusNotFound {
		t.Fatalf("PUT of a part after abort: %d, want 404", resp.status)
	}
	if _, err := s.CompleteMultipartUpload(ctx, key, id, []media.Part{{Number: 1, ETag: e1}}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("completing an aborted upload: %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Stat after abort: %v, want ErrNotFound", err)
	}
	for info, err := range s.List(ctx, "") {
		t.Fatalf("List after abort yields %+v, %v; want nothing", info, err)
	}
	if err := s.AbortMultipartUpload(ctx, key, id); err != nil {
		t.Fatalf("aborting twice: %v, want nil", err)
	}
}

func (c *suite) deleteThenStat(t *testing.T, s media.Store) {
	ctx := context.Background()
	data := payload(3000, 11)
	c.upload(t, s, "d/x/obj.png", "image/png", data)
	c.upload(t, s, "d/x/keep.png", "image/png", data)
	get, err := s.PresignGet(ctx, "d/x/obj.png", media.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "d/x/obj.png"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "d/x/obj.png"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Stat after Delete: %v, want ErrNotFound", err)
	}
	if _, err := s.ReadRange(ctx, "d/x/obj.png", 0, 10); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("ReadRange after Delete: %v, want ErrNotFound", err)
	}
	if resp := c.do(t, http.MethodGet, get.URL, nil, nil); resp.status != http.StatusNotFound {
		t.Fatalf("GET after Delete: %d, want 404", resp.status)
	}
	if err := s.Delete(ctx, "d/x/obj.png"); err != nil {
		t.Fatalf("deleting twice: %v, want nil", err)
	}
	if _, err := s.Stat(ctx, "d/x/keep.png"); err != nil {
		t.Fatalf("the neighbour was hurt: %v", err)
	}
	if err := s.Delete(ctx, "d/x/keep.png"); err != nil {
		t.Fatal(err)
	}
	// The key can be written again after its directory emptied.
	c.upload(t, s, "d/x/obj.png", "image/png", data)
}

func (c *suite) listByPrefix(t *testing.T, s media.Store) {
	ctx := context.Background()
	keys := map[string]int{"c/1/a": 10, "c/1/b": 20, "c/10/x": 30, "c/2/a": 40, "d/a": 50, "c/1-z": 60}
	for k, n := range keys {
		if _, err := s.Put(ctx, k, bytes.NewReader(payload(n, uint64(n))), int64(n), "application/pdf"); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
	}
	list := func(prefix string) []string {
		t.Helper()
		var got []string
		for info, err := range s.List(ctx, prefix) {
			if err != nil {
				t.Fatalf("List(%q): %v", prefix, err)
			}
			if want := keys[info.Key]; info.Size != int64(want) || info.ETag != md5hex(payload(want, uint64(want))) || info.ContentType != "application/pdf" || info.LastModified.IsZero() {
				t.Fatalf("List(%q) yields %+v, want size %d, its MD5 ETag, application/pdf and a time", prefix, info, want)
			}
			got = append(got, info.Key)
		}
		return got
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"c/1/", []string{"c/1/a", "c/1/b"}},
		{"c/1", []string{"c/1-z", "c/1/a", "c/1/b", "c/10/x"}},
		{"c/", []string{"c/1-z", "c/1/a", "c/1/b", "c/10/x", "c/2/a"}},
		{"", []string{"c/1-z", "c/1/a", "c/1/b", "c/10/x", "c/2/a", "d/a"}},
		{"d/a", []string{"d/a"}},
		{"nothing/", nil},
		{"c/1/a/", nil},
	} {
		if got := list(tc.prefix); !slices.Equal(got, tc.want) {
			t.Fatalf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
	// Stopping early is allowed.
	for range s.List(ctx, "c/") {
		break
	}
	for _, err := range s.List(ctx, "../") {
		wantErr(t, `List("../")`, err, errs.ErrInvalid)
	}
}

func (c *suite) putChecksSize(t *testing.T, s media.Store) {
	ctx := context.Background()
	data := payload(5000, 12)
	info, err := s.Put(ctx, "p/ok.pdf", bytes.NewReader(data), int64(len(data)), "application/pdf")
	if err != nil || info.Size != 5000 || info.ETag != md5hex(data) || info.ContentType != "application/pdf" {
		t.Fatalf("Put = %+v, %v", info, err)
	}
	_, err = s.Put(ctx, "p/short.pdf", bytes.NewReader(data), 6000, "application/pdf")
	wantErr(t, "Put of fewer bytes than said", err, errs.ErrInvalid)
	_, err = s.Put(ctx, "p/long.pdf", bytes.NewReader(data), 4000, "application/pdf")
	wantErr(t, "Put of more bytes than said", err, errs.ErrInvalid)
	for _, k := range []string{"p/short.pdf", "p/long.pdf"} {
		if _, err := s.Stat(ctx, k); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("Stat(%s) after a refused Put: %v, want ErrNotFound", k, err)
		}
	}
	empty, err := s.Put(ctx, "p/empty", bytes.NewReader(nil), 0, "application/octet-stream")
	if err != nil || empty.Size != 0 {
		t.Fatalf("Put of an empty object = %+v, %v", empty, err)
	}
}

func (c *suite) invalidKeysRefused(t *testing.T, s media.Store) {
	ctx := context.Background()
	for _, key := range []string{"", "../x", "a/../../x", "/abs", `a\b`, "a\x00b", "a//b", "a/", ".hidden", "a/./b", "a\nb", strings.Repeat("k", media.MaxKeyLength+1)} {
		_, err := s.PresignPut(ctx, key, media.PutOptions{ContentType: "video/mp4"})
		wantErr(t, fmt.Sprintf("PresignPut(%q)", key), err, errs.ErrInvalid)
		_, err = s.Put(ctx, key, strings.NewReader("x"), 1, "text/plain")
		wantErr(t, fmt.Sprintf("Put(%q)", key), err, errs.ErrInvalid)
		_, err = s.Stat(ctx, key)
		wantErr(t, fmt.Sprintf("Stat(%q)", key), err, errs.ErrInvalid)
		_, err = s.PresignGet(ctx, key, media.GetOptions{})
		wantErr(t, fmt.Sprintf("PresignGet(%q)", key), err, errs.ErrInvalid)
		wantErr(t, fmt.Sprintf("Delete(%q)", key), s.Delete(ctx, key), errs.ErrInvalid)
		_, err = s.CreateMultipartUpload(ctx, key, media.MultipartOptions{ContentType: "video/mp4"})
		wantErr(t, fmt.Sprintf("CreateMultipartUpload(%q)", key), err, errs.ErrInvalid)
	}
	for _, err := range s.List(ctx, "") {
		t.Fatalf("the store is not empty after refused writes: %v", err)
	}
}

func (c *suite) missingObject(t *testing.T, s media.Store) {
	ctx := context.Background()
	_, err := s.Stat(ctx, "no/such/key")
	wantErr(t, "Stat of a missing key", err, errs.ErrNotFound)
	_, err = s.ReadRange(ctx, "no/such/key", 0, 512)
	wantErr(t, "ReadRange of a missing key", err, errs.ErrNotFound)
	if err := s.Delete(ctx, "no/such/key"); err != nil {
		t.Fatalf("Delete of a missing key: %v, want nil", err)
	}
}

func (c *suite) ping(t *testing.T, s media.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// browserOnAnotherOrigin checks what a browser needs when the store is on another origin than
// the pages (MinIO always is; the disk store may be): the preflight of an upload succeeds and
// scripts may read the ETag of a part, which completing the upload needs.
func (c *suite) browserOnAnotherOrigin(t *testing.T, s media.Store) {
	ctx := context.Background()
	const origin = "https://hoctap.example.vn"
	allowed := func(h http.Header) bool {
		o := h.Get("Access-Control-Allow-Origin")
		return o == "*" || o == origin
	}
	id, err := s.CreateMultipartUpload(ctx, "cors/v.mp4", media.MultipartOptions{ContentType: "video/mp4"})
	if err != nil {
		t.Fatal(err)
	}
	part, err := s.PresignPart(ctx, "cors/v.mp4", id, 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	pre := c.do(t, http.MethodOptions, part.URL, map[string]string{
		"Origin": origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type",
	}, nil)
	if pre.status/100 != 2 || !allowed(pre.header) || !strings.Contains(pre.header.Get("Access-Control-Allow-Methods"), "PUT") ||
		!strings.Contains(strings.ToLower(pre.header.Get("Access-Control-Allow-Headers")), "content-type") {
		t.Fatalf("preflight of a part upload: %d %v", pre.status, pre.header)
	}
	put := c.do(t, part.Method, part.URL, map[string]string{"Origin": origin}, []byte("part"))
	if put.status != http.StatusOK || !allowed(put.header) || !strings.Contains(strings.ToLower(put.header.Get("Access-Control-Expose-Headers")), "etag") {
		t.Fatalf("part upload from another origin: %d %v", put.status, put.header)
	}
	if err := s.AbortMultipartUpload(ctx, "cors/v.mp4", id); err != nil {
		t.Fatal(err)
	}
}
