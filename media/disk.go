package media

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"hoctap/internal/clock"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

// MountPath is the URL path under which DiskStore.Handler serves objects. The server routes
// every method on MountPath+"*" to the handler unchanged (the handler reads the full path).
const MountPath = "/media-store/"

// DiskConfig configures a DiskStore.
type DiskConfig struct {
	// Root is the directory that holds everything; it is created when missing.
	Root string
	// PublicBaseURL is the scheme and host under which browsers reach the server that mounts
	// Handler, e.g. "https://hoctap.example.vn". URLs are PublicBaseURL + "/media-store/" +
	// key + "?…". A path prefix is allowed only when a proxy strips it before the handler,
	// which expects paths that start with MountPath.
	PublicBaseURL string
	// Secret signs the URLs; at least 32 bytes. Keep it stable across restarts, or URLs
	// issued before a restart stop working (they are short-lived anyway).
	Secret []byte
	// Clock tells the time for expiries; nil means clock.System.
	Clock clock.Clock
	// Logger records the internal errors Handler answers 500 to (their text never reaches the
	// client); nil means slog.Default().
	Logger *slog.Logger
}

// DiskStore is a Store on the local file system. It signs its own URLs with HMAC-SHA256 and
// serves them with Handler, so the same browser code works against it and against MinIO.
//
// Layout under Root: objects/<key> holds an object's bytes and objects/<dir>/.<name>.meta its
// content type and ETag (keys cannot have segments starting with ".", so the two never
// collide); tmp/ holds bodies being received, renamed into place once complete; and
// uploads/<upload id>/ holds a multipart upload's description and parts. Unlike S3, a key
// cannot be both an object and the directory of another ("a" and "a/b"): the second one is
// refused with errs.ErrConflict.
type DiskStore struct {
	root    string
	objects string
	tmp     string
	uploads string
	base    string
	secret  []byte
	now     clock.Clock
	log     *slog.Logger
}

var _ Store = (*DiskStore)(nil)

// NewDiskStore creates the directories under cfg.Root and returns the store. It returns an
// error wrapping errs.ErrInvalid for a bad configuration, or the file-system error.
func NewDiskStore(cfg DiskConfig) (*DiskStore, error) {
	if cfg.Root == "" {
		return nil, errs.Field("root", "is required")
	}
	if len(cfg.Secret) < 32 {
		return nil, errs.Field("secret", "must be at least 32 bytes")
	}
	u, err := url.Parse(cfg.PublicBaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errs.Field("public_base_url", "must be an absolute http(s) URL without query")
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("media: disk root: %w", err)
	}
	s := &DiskStore{
		root:    root,
		objects: filepath.Join(root, "objects"),
		tmp:     filepath.Join(root, "tmp"),
		uploads: filepath.Join(root, "uploads"),
		base:    strings.TrimRight(cfg.PublicBaseURL, "/"),
		secret:  slices.Clone(cfg.Secret),
		now:     cfg.Clock,
		log:     cfg.Logger,
	}
	if s.now == nil {
		s.now = clock.System
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	for _, d := range []string{s.objects, s.tmp, s.uploads} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("media: create %s: %w", d, err)
		}
	}
	return s, nil
}

// Root returns the absolute directory the store keeps its files in.
func (s *DiskStore) Root() string { return s.root }

// objectMeta is what the sidecar file of an object holds.
type objectMeta struct {
	ContentType string `json:"content_type"`
	ETag        string `json:"etag"`
	Size        int64  `json:"size"`
}

// uploadMeta is what uploads/<id>/upload.json holds.
type uploadMeta struct {
	Key         string    `json:"key"`
	ContentType string    `json:"content_type"`
	MaxSize     int64     `json:"max_size"`
	Created     time.Time `json:"created"`
}

func (s *DiskStore) dataPath(key string) string {
	return filepath.Join(s.objects, filepath.FromSlash(key))
}

func (s *DiskStore) metaPath(key string) string {
	dir, name := path.Split(key)
	return filepath.Join(s.objects, filepath.FromSlash(dir), "."+name+".meta")
}

// ---- signing ----

// signedParams are the terms a URL carries; all of them are covered by the signature.
type signedParams struct {
	op       string // "get", "put" or "part"
	key      string
	exp      int64
	ct       string
	max      int64
	upload   string
	part     int
	filename string
	inline   bool
}

func (p signedParams) canonical() string {
	return strings.Join([]string{"hoctap-media-v1", p.op, p.key, strconv.FormatInt(p.exp, 10), p.ct,
		strconv.FormatInt(p.max, 10), p.upload, strconv.Itoa(p.part), p.filename, strconv.FormatBool(p.inline)}, "\n")
}

func (s *DiskStore) sign(p signedParams) string { return hmacHex(s.secret, p.canonical()) }

// url returns the signed URL for p.
func (s *DiskStore) url(p signedParams) string {
	q := url.Values{}
	q.Set("op", p.op)
	q.Set("exp", strconv.FormatInt(p.exp, 10))
	if p.ct != "" {
		q.Set("ct", p.ct)
	}
	if p.max != 0 {
		q.Set("max", strconv.FormatInt(p.max, 10))
	}
	if p.upload != "" {
		q.Set("upload", p.upload)
	}
	if p.part != 0 {
		q.Set("part", strconv.Itoa(p.part))
	}
	if p.filename != "" {
		q.Set("fn", p.filename)
	}
	if p.inline {
		q.Set("inline", "1")
	}
	q.Set("sig", s.sign(p))
	return s.base + MountPath + escapeKeyPath(p.key) + "?" + q.Encode()
}

// ---- Store ----

// PresignPut signs a PUT of the whole object (see Store).
func (s *DiskStore) PresignPut(ctx context.Context, key string, opts PutOptions) (PresignedRequest, error) {
	if err := ValidateKey(key); err != nil {
		return PresignedRequest{}, err
	}
	if err := validateContentType(opts.ContentType); err != nil {
		return PresignedRequest{}, err
	}
	maxSize, err := capOrDefault(opts.MaxSize, MaxPartSize)
	if err != nil {
		return PresignedRequest{}, err
	}
	expiry, err := expiryOrDefault(opts.Expiry)
	if err != nil {
		return PresignedRequest{}, err
	}
	exp := s.now().Add(expiry).Truncate(time.Second)
	u := s.url(signedParams{op: "put", key: key, exp: exp.Unix(), ct: opts.ContentType, max: maxSize})
	return PresignedRequest{Method: "PUT", URL: u, Headers: map[string]string{"Content-Type": opts.ContentType}, Expires: exp}, nil
}

// capOrDefault applies def to 0 and refuses negative or larger-than-def caps.
func capOrDefault(n, def int64) (int64, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 0 || n > def:
		return 0, errs.Field("max_size", fmt.Sprintf("must be between 1 and %d bytes", def))
	}
	return n, nil
}

// CreateMultipartUpload starts an upload (see Store).
func (s *DiskStore) CreateMultipartUpload(ctx context.Context, key string, opts MultipartOptions) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if err := validateContentType(opts.ContentType); err != nil {
		return "", err
	}
	if opts.MaxSize < 0 {
		return "", errs.Field("max_size", "must not be negative")
	}
	id := ids.Secret(18)
	dir := filepath.Join(s.uploads, id)
	if err := os.Mkdir(dir, 0o750); err != nil {
		return "", fmt.Errorf("media: create upload: %w", err)
	}
	m := uploadMeta{Key: key, ContentType: opts.ContentType, MaxSize: opts.MaxSize, Created: s.now().UTC()}
	if err := writeJSONAtomic(filepath.Join(dir, "upload.json"), s.tmp, m); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return id, nil
}

// validUploadID reports whether id can be an id CreateMultipartUpload returned (and so is a
// safe single path element).
func validUploadID(id string) bool {
	if len(id) != 24 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// loadUpload returns the upload with id for key; errs.ErrNotFound when there is none.
func (s *DiskStore) loadUpload(key, id string) (uploadMeta, string, error) {
	if !validUploadID(id) {
		return uploadMeta{}, "", fmt.Errorf("media: upload %q: %w", id, errs.ErrNotFound)
	}
	dir := filepath.Join(s.uploads, id)
	var m uploadMeta
	b, err := os.ReadFile(filepath.Join(dir, "upload.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return uploadMeta{}, "", fmt.Errorf("media: upload %q: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return uploadMeta{}, "", fmt.Errorf("media: read upload: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return uploadMeta{}, "", fmt.Errorf("media: upload %q is corrupt: %w", id, err)
	}
	if m.Key != key {
		return uploadMeta{}, "", fmt.Errorf("media: upload %q is not for this key: %w", id, errs.ErrNotFound)
	}
	return m, dir, nil
}

// PresignPart signs the PUT of one part (see Store). The disk store checks that the upload
// exists.
func (s *DiskStore) PresignPart(ctx context.Context, key, uploadID string, partNumber int, expiry time.Duration) (PresignedRequest, error) {
	if err := ValidateKey(key); err != nil {
		return PresignedRequest{}, err
	}
	if err := validatePartNumber(partNumber); err != nil {
		return PresignedRequest{}, err
	}
	expiry, err := expiryOrDefault(expiry)
	if err != nil {
		return PresignedRequest{}, err
	}
	m, _, err := s.loadUpload(key, uploadID)
	if err != nil {
		return PresignedRequest{}, err
	}
	maxSize := int64(MaxPartSize)
	if m.MaxSize > 0 && m.MaxSize < maxSize {
		maxSize = m.MaxSize
	}
	exp := s.now().Add(expiry).Truncate(time.Second)
	u := s.url(signedParams{op: "part", key: key, exp: exp.Unix(), max: maxSize, upload: uploadID, part: partNumber})
	return PresignedRequest{Method: "PUT", URL: u, Headers: map[string]string{}, Expires: exp}, nil
}

func partPath(dir string, n int) string { return filepath.Join(dir, fmt.Sprintf("part-%05d", n)) }

// CompleteMultipartUpload joins the parts into the object (see Store). It returns
// errs.ErrInvalid when a part is missing, its ETag differs, or a part but the last is smaller
// than MinPartSize; errs.ErrTooLarge when the parts exceed the upload's MaxSize;
// errs.ErrNotFound for an unknown upload.
func (s *DiskStore) CompleteMultipartUpload(ctx context.Context, key, uploadID string, parts []Part) (ObjectInfo, error) {
	if err := ValidateKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if err := validateParts(parts); err != nil {
		return ObjectInfo{}, err
	}
	m, dir, err := s.loadUpload(key, uploadID)
	if err != nil {
		return ObjectInfo{}, err
	}
	var total int64
	sums := md5.New()
	for i, p := range parts {
		pm, err := readPartMeta(dir, p.Number)
		if err != nil {
			return ObjectInfo{}, err
		}
		if pm.ETag != unquoteETag(p.ETag) {
			return ObjectInfo{}, errs.Field("parts", fmt.Sprintf("part %d: etag does not match the uploaded part", p.Number))
		}
		if i < len(parts)-1 && pm.Size < MinPartSize {
			return ObjectInfo{}, errs.Field("parts", fmt.Sprintf("part %d is smaller than 5 MiB and is not the last", p.Number))
		}
		raw, _ := hex.DecodeString(pm.ETag)
		sums.Write(raw)
		total += pm.Size
	}
	if m.MaxSize > 0 && total > m.MaxSize {
		return ObjectInfo{}, fmt.Errorf("media: upload of %d bytes exceeds %d: %w", total, m.MaxSize, errs.ErrTooLarge)
	}
	etag := fmt.Sprintf("%s-%d", hex.EncodeToString(sums.Sum(nil)), len(parts))

	tmp, err := os.CreateTemp(s.tmp, "complete-*")
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("media: complete: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	for _, p := range parts {
		if err := appendFile(ctx, tmp, partPath(dir, p.Number)); err != nil {
			tmp.Close()
			return ObjectInfo{}, err
		}
	}
	info, err := s.commit(tmp, key, objectMeta{ContentType: m.ContentType, ETag: etag, Size: total})
	if err != nil {
		return ObjectInfo{}, err
	}
	// The description goes first: a crash while the parts are removed then leaves an
	// upload that is gone (as on S3 once completed), never one missing some parts, whose
	// completion would be retried and refused. RemoveStaleUploads clears the debris.
	if err := os.Remove(filepath.Join(dir, "upload.json")); err != nil {
		return ObjectInfo{}, fmt.Errorf("media: remove completed upload: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return ObjectInfo{}, fmt.Errorf("media: remove completed upload: %w", err)
	}
	return info, nil
}

func readPartMeta(dir string, n int) (objectMeta, error) {
	b, err := os.ReadFile(partPath(dir, n) + ".meta")
	if errors.Is(err, fs.ErrNotExist) {
		return objectMeta{}, errs.Field("parts", fmt.Sprintf("part %d was not uploaded", n))
	}
	if err != nil {
		return objectMeta{}, fmt.Errorf("media: read part: %w", err)
	}
	var pm objectMeta
	if err := json.Unmarshal(b, &pm); err != nil {
		return objectMeta{}, fmt.Errorf("media: part %d is corrupt: %w", n, err)
	}
	return pm, nil
}

// appendFile copies the file at src to the end of dst, stopping when ctx ends.
func appendFile(ctx context.Context, dst *os.File, src string) error {
	f, err := os.Open(src)
	if errors.Is(err, fs.ErrNotExist) {
		// Completed or aborted by a concurrent request.
		return fmt.Errorf("media: part %s is gone: %w", filepath.Base(src), errs.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("media: open part: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(dst, ctxReader{ctx, f}); err != nil {
		return fmt.Errorf("media: join parts: %w", err)
	}
	return nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// AbortMultipartUpload removes the upload and its parts (see Store); an unknown upload is
// not an error.
func (s *DiskStore) AbortMultipartUpload(ctx context.Context, key, uploadID string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	_, dir, err := s.loadUpload(key, uploadID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// The description first, as in CompleteMultipartUpload.
	if err := os.Remove(filepath.Join(dir, "upload.json")); err != nil {
		return fmt.Errorf("media: abort upload: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("media: abort upload: %w", err)
	}
	return nil
}

// Put stores r as the object at key (see Store). It returns errs.ErrInvalid when r is not
// exactly size bytes long (nothing is stored then).
func (s *DiskStore) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (ObjectInfo, error) {
	if err := ValidateKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if err := validateContentType(contentType); err != nil {
		return ObjectInfo{}, err
	}
	if size < 0 || size > MaxPartSize {
		return ObjectInfo{}, errs.Field("size", "must be between 0 and 5 GiB")
	}
	tmp, etag, n, err := s.receive(ctxReader{ctx, r}, size)
	if errors.Is(err, errs.ErrTooLarge) {
		return ObjectInfo{}, errs.Field("size", fmt.Sprintf("the body is longer than %d bytes", size))
	}
	if err != nil {
		return ObjectInfo{}, err
	}
	defer os.Remove(tmp.Name())
	if n != size {
		tmp.Close()
		return ObjectInfo{}, errs.Field("size", fmt.Sprintf("the body has %d bytes, not %d", n, size))
	}
	return s.commit(tmp, key, objectMeta{ContentType: contentType, ETag: etag, Size: n})
}

// receive streams r into a new temp file, hashing it, and refuses more than maxSize bytes
// with errs.ErrTooLarge. The caller removes the returned file.
func (s *DiskStore) receive(r io.Reader, maxSize int64) (*os.File, string, int64, error) {
	tmp, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return nil, "", 0, fmt.Errorf("media: receive: %w", err)
	}
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, maxSize+1))
	if err == nil && n > maxSize {
		err = fmt.Errorf("media: body exceeds %d bytes: %w", maxSize, errs.ErrTooLarge)
	} else if err != nil {
		err = fmt.Errorf("media: receive body: %w", err)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, "", 0, err
	}
	return tmp, hex.EncodeToString(h.Sum(nil)), n, nil
}

// commit syncs and closes tmp and renames it to key, after writing the sidecar.
func (s *DiskStore) commit(tmp *os.File, key string, m objectMeta) (ObjectInfo, error) {
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return ObjectInfo{}, fmt.Errorf("media: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return ObjectInfo{}, fmt.Errorf("media: close: %w", err)
	}
	data := s.dataPath(key)
	for attempt := 0; ; attempt++ {
		err := s.place(tmp.Name(), key, data, m)
		// A concurrent Delete may remove the directory between MkdirAll and Rename.
		if err != nil && errors.Is(err, fs.ErrNotExist) && attempt < 2 {
			continue
		}
		if err != nil {
			return ObjectInfo{}, err
		}
		break
	}
	fi, err := os.Stat(data)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("media: stat new object: %w", err)
	}
	return ObjectInfo{Key: key, Size: m.Size, ContentType: m.ContentType, ETag: m.ETag, LastModified: fi.ModTime().UTC()}, nil
}

func (s *DiskStore) place(tmpName, key, data string, m objectMeta) error {
	if err := os.MkdirAll(filepath.Dir(data), 0o750); err != nil {
		return conflictOr(fmt.Errorf("media: create directory for %q: %w", key, err))
	}
	if fi, err := os.Stat(data); err == nil && fi.IsDir() {
		return fmt.Errorf("media: %q is the directory of other objects: %w", key, errs.ErrConflict)
	}
	// The sidecar goes first: a crash in between leaves a sidecar without data, which no
	// reader sees, rather than data without its type.
	if err := writeJSONAtomic(s.metaPath(key), s.tmp, m); err != nil {
		return conflictOr(err)
	}
	if err := os.Rename(tmpName, data); err != nil {
		return conflictOr(fmt.Errorf("media: place %q: %w", key, err))
	}
	return nil
}

// conflictOr turns "a path element is a file" into errs.ErrConflict.
func conflictOr(err error) error {
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("%w (%w)", err, errs.ErrConflict)
	}
	return err
}

// writeJSONAtomic writes v as JSON to name through a temp file in tmpDir.
func writeJSONAtomic(name, tmpDir string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("media: encode metadata: %w", err)
	}
	f, err := os.CreateTemp(tmpDir, "meta-*")
	if err != nil {
		return fmt.Errorf("media: write metadata: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("media: write metadata: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("media: write metadata: %w", err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("media: write metadata: %w", err)
	}
	return nil
}

// Stat describes the object (see Store); errs.ErrNotFound when missing.
func (s *DiskStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := ValidateKey(key); err != nil {
		return ObjectInfo{}, err
	}
	return s.stat(key)
}

func (s *DiskStore) stat(key string) (ObjectInfo, error) {
	fi, err := os.Stat(s.dataPath(key))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || (err == nil && !fi.Mode().IsRegular()) {
		return ObjectInfo{}, fmt.Errorf("media: object %q: %w", key, errs.ErrNotFound)
	}
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("media: stat %q: %w", key, err)
	}
	m, err := s.readMeta(key, fi.Size())
	if err != nil {
		return ObjectInfo{}, err
	}
	return ObjectInfo{Key: key, Size: fi.Size(), ContentType: m.ContentType, ETag: m.ETag, LastModified: fi.ModTime().UTC()}, nil
}

// readMeta reads an object's sidecar. An object without one (files copied in by hand, say
// when restoring a backup) gets its type sniffed and its MD5 computed, and the sidecar is
// written so that happens once.
func (s *DiskStore) readMeta(key string, size int64) (objectMeta, error) {
	b, err := os.ReadFile(s.metaPath(key))
	if err == nil {
		var m objectMeta
		if err := json.Unmarshal(b, &m); err == nil && m.Size == size {
			return m, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return objectMeta{}, fmt.Errorf("media: read metadata of %q: %w", key, err)
	}
	f, err := os.Open(s.dataPath(key))
	if err != nil {
		return objectMeta{}, fmt.Errorf("media: open %q: %w", key, err)
	}
	defer f.Close()
	h := md5.New()
	br := bufio.NewReader(io.TeeReader(f, h))
	head, _ := br.Peek(SniffLength)
	m := objectMeta{ContentType: Sniff(head, path.Base(key))}
	n, err := io.Copy(io.Discard, br)
	if err != nil {
		return objectMeta{}, fmt.Errorf("media: read %q: %w", key, err)
	}
	m.Size, m.ETag = n, hex.EncodeToString(h.Sum(nil))
	if err := writeJSONAtomic(s.metaPath(key), s.tmp, m); err != nil {
		return objectMeta{}, err
	}
	return m, nil
}

// ReadRange reads part of the object (see Store); errs.ErrNotFound when missing,
// errs.ErrInvalid for a negative offset.
func (s *DiskStore) ReadRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, errs.Field("offset", "must not be negative")
	}
	f, err := os.Open(s.dataPath(key))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, fmt.Errorf("media: object %q: %w", key, errs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("media: open %q: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("media: object %q: %w", key, errs.ErrNotFound)
	}
	n := fi.Size() - offset
	if n < 0 {
		n = 0
	}
	if length >= 0 && length < n {
		n = length
	}
	return readCloser{io.NewSectionReader(f, offset, n), f}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// PresignGet signs a download (see Store). The disk store does not check that the object
// exists; the URL answers 404 when it does not.
func (s *DiskStore) PresignGet(ctx context.Context, key string, opts GetOptions) (PresignedRequest, error) {
	if err := ValidateKey(key); err != nil {
		return PresignedRequest{}, err
	}
	expiry, err := expiryOrDefault(opts.Expiry)
	if err != nil {
		return PresignedRequest{}, err
	}
	if opts.Filename != "" {
		if _, err := SanitizeFilename(opts.Filename); err != nil {
			return PresignedRequest{}, err
		}
	}
	exp := s.now().Add(expiry).Truncate(time.Second)
	u := s.url(signedParams{op: "get", key: key, exp: exp.Unix(), filename: opts.Filename, inline: opts.Inline})
	return PresignedRequest{Method: "GET", URL: u, Headers: map[string]string{}, Expires: exp}, nil
}

// Delete removes the object and its sidecar, and the directories this leaves empty.
func (s *DiskStore) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	data := s.dataPath(key)
	if fi, err := os.Stat(data); err == nil && fi.IsDir() {
		return nil // not an object, only the directory of others
	}
	if err := os.Remove(data); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("media: delete %q: %w", key, err)
	}
	if err := os.Remove(s.metaPath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("media: delete metadata of %q: %w", key, err)
	}
	// Remove now-empty parents; one that is not empty (or is being filled) stays.
	for dir := filepath.Dir(data); dir != s.objects && strings.HasPrefix(dir, s.objects); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// List yields the objects under prefix in key order (see Store).
func (s *DiskStore) List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		if err := validatePrefix(prefix); err != nil {
			yield(ObjectInfo{}, err)
			return
		}
		// Walk only the deepest directory the prefix names whole.
		start := s.objects
		if i := strings.LastIndex(prefix, "/"); i >= 0 {
			start = filepath.Join(s.objects, filepath.FromSlash(prefix[:i]))
		}
		var keys []string
		err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
					return nil
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && p != start {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(s.objects, p)
			if err != nil {
				return err
			}
			if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
				keys = append(keys, key)
			}
			return nil
		})
		if err != nil {
			yield(ObjectInfo{}, fmt.Errorf("media: list %q: %w", prefix, err))
			return
		}
		slices.Sort(keys)
		for _, k := range keys {
			info, err := s.stat(k)
			if errors.Is(err, errs.ErrNotFound) {
				continue // deleted while listing
			}
			if !yield(info, err) || err != nil {
				return
			}
		}
	}
}

// Ping checks that the root is a writable directory; errs.ErrUnavailable when not.
func (s *DiskStore) Ping(ctx context.Context) error {
	f, err := os.CreateTemp(s.tmp, "ping-*")
	if err != nil {
		return fmt.Errorf("media: disk store %s is not writable: %w (%w)", s.root, err, errs.ErrUnavailable)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// RemoveStaleUploads aborts the multipart uploads started before olderThan, which browsers
// gave up on, and removes the temporary files last written before olderThan, which a
// crash left behind (a body being received or parts being joined: as large as the upload).
// Service.PurgeAbandonedUploads calls it. It returns how many uploads and files it removed.
func (s *DiskStore) RemoveStaleUploads(olderThan time.Time) (int, error) {
	n := 0
	temps, err := os.ReadDir(s.tmp)
	if err != nil {
		return 0, fmt.Errorf("media: list temporary files: %w", err)
	}
	for _, e := range temps {
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(olderThan) {
			continue // gone meanwhile, or still being written
		}
		if err := os.Remove(filepath.Join(s.tmp, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("media: remove a stale temporary file: %w", err)
		}
		n++
	}
	entries, err := os.ReadDir(s.uploads)
	if err != nil {
		return n, fmt.Errorf("media: list uploads: %w", err)
	}
	for _, e := range entries {
		dir := filepath.Join(s.uploads, e.Name())
		var m uploadMeta
		b, err := os.ReadFile(filepath.Join(dir, "upload.json"))
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err == nil && !m.Created.Before(olderThan) {
			continue
		}
		if err != nil {
			// A directory without a readable description is debris; judge it by its age.
			fi, serr := e.Info()
			if serr != nil || !fi.ModTime().Before(olderThan) {
				continue
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			return n, fmt.Errorf("media: remove stale upload: %w", err)
		}
		n++
	}
	return n, nil
}

// LoadOrCreateSecret returns the signing secret kept in the file at path, creating the file
// (mode 0600, 32 random bytes in base64url) when it does not exist, so a DiskStore's URLs
// survive a restart without configuration. It returns an error wrapping errs.ErrInvalid
// when the file holds fewer than 32 bytes.
func LoadOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		secret := []byte(ids.Secret(32)) // 32 random bytes as 43 URL-safe characters
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateSecret(path) // another process created it first
		}
		if err != nil {
			return nil, fmt.Errorf("media: create secret: %w", err)
		}
		if _, err := f.Write(secret); err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("media: write secret: %w", err)
		}
		if err := f.Close(); err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("media: write secret: %w", err)
		}
		return secret, nil
	}
	if err != nil {
		return nil, fmt.Errorf("media: read secret: %w", err)
	}
	b = []byte(strings.TrimSpace(string(b)))
	if len(b) < 32 {
		return nil, fmt.Errorf("media: the secret in %s is shorter than 32 bytes: %w", path, errs.ErrInvalid)
	}
	return b, nil
}
