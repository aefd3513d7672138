package media

import (
	"context"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"hoctap/internal/errs"
)

// Limits shared by every Store, the same as Amazon S3's so both stores behave alike.
const (
	// MinPartSize is the smallest size of every part of a multipart upload but the last.
	MinPartSize = 5 << 20
	// MaxPartSize is the largest size of one part, and of one single (non-multipart) PUT.
	MaxPartSize = 5 << 30
	// MaxParts is the largest part number.
	MaxParts = 10000
	// MaxExpiry is the longest validity of a presigned URL.
	MaxExpiry = 7 * 24 * time.Hour
	// DefaultExpiry is used when a caller gives no expiry.
	DefaultExpiry = 15 * time.Minute
	// MaxKeyLength is the longest object key, in bytes.
	MaxKeyLength = 1024
)

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key         string
	Size        int64
	ContentType string
	// ETag is the entity tag without quotes: the MD5 hex of the content for a single PUT,
	// "<md5 of the part MD5s>-<number of parts>" for a multipart upload (as S3 does).
	ETag         string
	LastModified time.Time
}

// PresignedRequest is a request the browser makes directly against the store.
type PresignedRequest struct {
	Method string
	URL    string
	// Headers the client must send exactly as given (for example Content-Type, which is part
	// of the signature of an upload).
	Headers map[string]string
	Expires time.Time
}

// PutOptions are the terms of a presigned single-request upload.
type PutOptions struct {
	// ContentType is required; the upload must be sent with exactly this Content-Type.
	ContentType string
	// MaxSize caps the body in bytes (0 means MaxPartSize). The disk store refuses a larger
	// body with 413; S3 cannot cap a presigned PUT, so callers must Stat the object after the
	// upload and delete it when it is too large (the upload-complete step does this).
	MaxSize int64
	// Expiry is how long the URL is valid (0 means DefaultExpiry, at most MaxExpiry).
	Expiry time.Duration
}

// MultipartOptions are the terms of a multipart upload.
type MultipartOptions struct {
	// ContentType is required and is stored with the completed object.
	ContentType string
	// MaxSize caps the completed object (0 means no cap beyond MaxParts*MaxPartSize). The disk
	// store enforces it on parts and on completion; with S3 the caller must Stat afterwards.
	MaxSize int64
}

// Part is one uploaded part of a multipart upload, as the client reports it on completion.
type Part struct {
	Number int
	// ETag is the ETag header the store answered the part's PUT with (quotes optional).
	ETag string
}

// GetOptions are the terms of a presigned download.
type GetOptions struct {
	// Expiry is how long the URL is valid (0 means DefaultExpiry, at most MaxExpiry).
	Expiry time.Duration
	// Filename, when set, is sent in Content-Disposition so a save keeps the original name.
	Filename string
	// Inline asks the browser to show the content (PDF viewer, video) rather than save it.
	Inline bool
}

// Store keeps lecture media. Bodies never pass through the application: browsers upload and
// download with presigned URLs; the application only signs, checks (Stat, ReadRange for
// sniffing) and deletes.
//
// Errors: a missing object or upload wraps errs.ErrNotFound; bad arguments (key, part
// numbers, sizes, ETags) wrap errs.ErrInvalid; an unreachable or failing backend wraps
// errs.ErrUnavailable, and is reported quickly rather than retried for long.
type Store interface {
	// PresignPut returns a PUT request that uploads the whole object at key.
	PresignPut(ctx context.Context, key string, opts PutOptions) (PresignedRequest, error)
	// CreateMultipartUpload starts a multipart upload to key and returns its upload id.
	CreateMultipartUpload(ctx context.Context, key string, opts MultipartOptions) (string, error)
	// PresignPart returns a PUT request that uploads part partNumber (1..MaxParts) of an
	// upload; the response's ETag header is what CompleteMultipartUpload needs. A store may
	// sign without checking that the upload exists: using the URL of an unknown or aborted
	// upload then fails with 404.
	PresignPart(ctx context.Context, key, uploadID string, partNumber int, expiry time.Duration) (PresignedRequest, error)
	// CompleteMultipartUpload joins the given parts, in ascending part order, into the object.
	// Every part but the last must be at least MinPartSize.
	CompleteMultipartUpload(ctx context.Context, key, uploadID string, parts []Part) (ObjectInfo, error)
	// AbortMultipartUpload discards an upload and its parts. Aborting an upload that does not
	// exist (any more) is not an error, so a retried abort succeeds.
	AbortMultipartUpload(ctx context.Context, key, uploadID string) error
	// Put stores an object the application itself produces (a generated certificate, a
	// restore from backup), streaming from r; size is the exact length of r.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (ObjectInfo, error)
	// Stat describes the object at key.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// ReadRange reads length bytes from offset (length < 0 reads to the end); a range past the
	// end is cut short. The caller closes the reader.
	ReadRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// PresignGet returns a GET request for the object; it honours Range (206). The URL is
	// for GET only (S3 signs the method; a HEAD with it is refused).
	// If-Range is honoured by the disk store but ignored by MinIO, so clients must not rely
	// on it; keys are written once, which makes it moot.
	PresignGet(ctx context.Context, key string, opts GetOptions) (PresignedRequest, error)
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List yields the objects whose key starts with prefix, in byte order of the keys.
	List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error]
	// Ping reports whether the store can serve requests (errs.ErrUnavailable when not).
	Ping(ctx context.Context) error
}

// ValidateKey checks an object key: 1..MaxKeyLength bytes of UTF-8, segments separated by
// "/", no empty segment, no segment that starts with "." (so no "." or ".." and no hidden
// files), not absolute, no backslash, no NUL or other control character. The same rules
// hold for every Store, so a key that works on disk works on S3 and back. It returns an
// error wrapping errs.ErrInvalid.
func ValidateKey(key string) error {
	bad := func(reason string) error { return errs.Field("key", reason) }
	switch {
	case key == "":
		return bad("must not be empty")
	case len(key) > MaxKeyLength:
		return bad(fmt.Sprintf("must be at most %d bytes", MaxKeyLength))
	case !utf8.ValidString(key):
		return bad("must be UTF-8")
	case strings.HasPrefix(key, "/"):
		return bad("must not be absolute")
	case strings.Contains(key, `\`):
		return bad("must not contain a backslash")
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return bad("must not contain control characters")
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return bad("must not have empty segments")
		case strings.HasPrefix(seg, "."):
			return bad(`must not have segments that start with "."`)
		}
	}
	return nil
}

// validatePrefix checks a List prefix: empty, or a key prefix that could begin a valid key.
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	// "a/" is a fine prefix although "a/" is not a key; check it with a stand-in last segment.
	probe := prefix
	if strings.HasSuffix(probe, "/") {
		probe += "x"
	}
	if err := ValidateKey(probe); err != nil {
		return errs.Field("prefix", "is not the start of a valid key")
	}
	return nil
}

// expiryOrDefault applies DefaultExpiry and checks the range 1s..MaxExpiry.
func expiryOrDefault(d time.Duration) (time.Duration, error) {
	if d == 0 {
		return DefaultExpiry, nil
	}
	if d < time.Second || d > MaxExpiry {
		return 0, errs.Field("expiry", "must be between 1 second and 7 days")
	}
	return d, nil
}

// validateContentType checks that ct is a well-formed media type.
func validateContentType(ct string) error {
	if ct == "" {
		return errs.Field("content_type", "is required")
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		return errs.Field("content_type", "is not a media type")
	}
	return nil
}

// validatePartNumber checks 1..MaxParts.
func validatePartNumber(n int) error {
	if n < 1 || n > MaxParts {
		return errs.Field("part_number", fmt.Sprintf("must be between 1 and %d", MaxParts))
	}
	return nil
}

// validateParts checks that parts are non-empty, in strictly ascending order and in range.
func validateParts(parts []Part) error {
	if len(parts) == 0 {
		return errs.Field("parts", "must not be empty")
	}
	for i, p := range parts {
		if err := validatePartNumber(p.Number); err != nil {
			return err
		}
		if i > 0 && p.Number <= parts[i-1].Number {
			return errs.Field("parts", "must be in ascending part order without repeats")
		}
		if unquoteETag(p.ETag) == "" {
			return errs.Field("parts", fmt.Sprintf("part %d has no etag", p.Number))
		}
	}
	return nil
}

// unquoteETag strips the quotes (and a weak prefix) an HTTP ETag header carries.
func unquoteETag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	return strings.Trim(s, `"`)
}

// ContentDisposition builds a Content-Disposition header value for filename: an ASCII
// fallback in filename="…" (non-ASCII, quotes and backslashes replaced by "_") and the exact
// name percent-encoded in filename* (RFC 6266, RFC 5987), so Vietnamese names survive in every browser.
func ContentDisposition(filename string, inline bool) string {
	kind := "attachment"
	if inline {
		kind = "inline"
	}
	if filename == "" {
		return kind
	}
	var ascii strings.Builder
	for _, r := range filename {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	return fmt.Sprintf(`%s; filename="%s"; filename*=UTF-8''%s`, kind, ascii.String(), rfc5987Escape(filename))
}

// rfc5987Escape percent-encodes everything but RFC 5987 attr-chars.
func rfc5987Escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
			strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// escapeKeyPath escapes each segment of key for use in a URL path.
func escapeKeyPath(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
