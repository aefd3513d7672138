package media

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"

	"hoctap/internal/errs"
)

// hmacHex returns the hex HMAC-SHA256 of msg.
func hmacHex(secret []byte, msg string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// Handler serves the URLs the store signs: GET and HEAD of objects (with Range, If-Range,
// If-None-Match and the signed Content-Disposition), PUT of whole objects and PUT of
// multipart parts, each streamed to a temp file and renamed into place. It reads the full
// request path, which must start with MountPath, so mount it for every method on
// MountPath+"*" without stripping the prefix.
//
// Answers: 403 for a missing, tampered or expired signature, or an upload sent with another
// Content-Type than was signed; 404 for a missing object or upload; 405 for a method the
// signature does not allow; 413 for a body larger than the signed cap; 409 when the key
// clashes with a directory of other keys; 200 with an ETag header for an upload. Answers
// allow any origin (the signature, not the origin, is the capability) and expose ETag, so a
// browser on another origin can read part ETags.
//
// Serve it with net/http (an http.Server of its own, with PublicBaseURL pointing at it) to
// keep bodies streaming. Fiber's adaptor (fasthttpadaptor) works but copies whole request
// and response bodies into memory, and fiber's BodyLimit (4 MiB by default) then refuses
// larger uploads, even single 5 MiB parts.
func (s *DiskStore) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *DiskStore) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "ETag, Content-Length, Content-Range, Accept-Ranges")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Range, If-Range, If-None-Match")
		h.Set("Access-Control-Max-Age", "3600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	key, ok := strings.CutPrefix(r.URL.Path, MountPath)
	if !ok || ValidateKey(key) != nil {
		http.Error(w, "no such object", http.StatusNotFound)
		return
	}
	p, err := s.verify(key, r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	switch p.op {
	case "get":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		s.serveGet(w, r, p)
	case "put", "part":
		if r.Method != http.MethodPut {
			methodNotAllowed(w, "PUT")
			return
		}
		if p.op == "put" && r.Header.Get("Content-Type") != p.ct {
			http.Error(w, fmt.Sprintf("the upload must be sent with Content-Type %q", p.ct), http.StatusForbidden)
			return
		}
		if r.ContentLength > p.max {
			http.Error(w, fmt.Sprintf("the body is larger than %d bytes", p.max), http.StatusRequestEntityTooLarge)
			return
		}
		var etag string
		if p.op == "put" {
			etag, err = s.receivePut(r, p)
		} else {
			etag, err = s.receivePart(r, p)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h.Set("ETag", `"`+etag+`"`)
		w.WriteHeader(http.StatusOK)
	default:
		http.Error(w, "bad signature", http.StatusForbidden)
	}
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// writeError answers with the status of a store error, without leaking internal detail;
// internal errors are logged.
func (s *DiskStore) writeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errs.ErrNotFound):
		http.Error(w, "not found", http.StatusNotFound)
	case errors.Is(err, errs.ErrTooLarge):
		http.Error(w, "the body is too large", http.StatusRequestEntityTooLarge)
	case errors.Is(err, errs.ErrConflict):
		http.Error(w, "the key clashes with other objects", http.StatusConflict)
	case errors.Is(err, errs.ErrInvalid):
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		s.log.Error("media store request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// verify parses the signed terms of a request for key and checks signature and expiry.
func (s *DiskStore) verify(key string, q url.Values) (signedParams, error) {
	bad := errors.New("missing or bad signature")
	p := signedParams{op: q.Get("op"), key: key, ct: q.Get("ct"), upload: q.Get("upload"), filename: q.Get("fn"), inline: q.Get("inline") == "1"}
	var err error
	if p.exp, err = strconv.ParseInt(q.Get("exp"), 10, 64); err != nil {
		return p, bad
	}
	if v := q.Get("max"); v != "" {
		if p.max, err = strconv.ParseInt(v, 10, 64); err != nil {
			return p, bad
		}
	}
	if v := q.Get("part"); v != "" {
		if p.part, err = strconv.Atoi(v); err != nil {
			return p, bad
		}
	}
	if q.Has("inline") && q.Get("inline") != "1" {
		return p, bad
	}
	if !hmac.Equal([]byte(q.Get("sig")), []byte(s.sign(p))) {
		return p, bad
	}
	if s.now().Unix() > p.exp {
		return p, errors.New("the URL has expired")
	}
	return p, nil
}

func (s *DiskStore) serveGet(w http.ResponseWriter, r *http.Request, p signedParams) {
	f, err := os.Open(s.dataPath(p.key))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		http.Error(w, "no such object", http.StatusNotFound)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.Error(w, "no such object", http.StatusNotFound)
		return
	}
	m, err := s.readMeta(p.key, fi.Size())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", m.ContentType)
	h.Set("ETag", `"`+m.ETag+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	if p.filename != "" || p.inline {
		h.Set("Content-Disposition", ContentDisposition(p.filename, p.inline))
	}
	if left := p.exp - s.now().Unix(); left > 0 {
		h.Set("Cache-Control", "private, max-age="+strconv.FormatInt(left, 10))
	}
	// ServeContent answers Range with 206 (or 416), honours If-Range and If-None-Match
	// against the ETag set above, and streams from the file.
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

func (s *DiskStore) receivePut(r *http.Request, p signedParams) (string, error) {
	tmp, etag, n, err := s.receive(r.Body, p.max)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := s.commit(tmp, p.key, objectMeta{ContentType: p.ct, ETag: etag, Size: n}); err != nil {
		return "", err
	}
	return etag, nil
}

func (s *DiskStore) receivePart(r *http.Request, p signedParams) (string, error) {
	if _, _, err := s.loadUpload(p.key, p.upload); err != nil {
		return "", err
	}
	if err := validatePartNumber(p.part); err != nil {
		return "", err
	}
	tmp, etag, n, err := s.receive(r.Body, p.max)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("media: close part: %w", err)
	}
	_, dir, err := s.loadUpload(p.key, p.upload)
	if err != nil {
		return "", err // aborted while the body arrived
	}
	dst := partPath(dir, p.part)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("media: upload %q: %w", p.upload, errs.ErrNotFound)
		}
		return "", fmt.Errorf("media: place part: %w", err)
	}
	if err := writeJSONAtomic(dst+".meta", s.tmp, objectMeta{ETag: etag, Size: n}); err != nil {
		return "", err
	}
	return etag, nil
}
