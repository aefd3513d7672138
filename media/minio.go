package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"hoctap/internal/errs"
)

// MinioConfig configures a MinioStore.
type MinioConfig struct {
	// Endpoint is host:port of the S3 API, without scheme.
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	UseTLS    bool
	// Region defaults to "us-east-1". Setting it saves a network round trip per presign.
	Region string
	// PublicURL is the scheme and host browsers use to reach the S3 API, e.g.
	// "https://media.example.vn", when that differs from Endpoint (MinIO on an internal
	// network behind a proxy that keeps the Host header). Empty means the Endpoint itself.
	PublicURL string
	// Timeout bounds each metadata request (stat, delete, multipart create/abort, ping);
	// default 5s. Reads are bounded by the caller's context only, since a video can be large.
	Timeout time.Duration
}

// MinioStore is a Store on MinIO (or any S3 API). Browsers upload and download with
// presigned URLs; the application never carries the bytes.
//
// Unlike the disk store it cannot cap the size of a presigned PUT (S3 has no such term for
// PUT): callers Stat after an upload and delete what is too large. List results carry the
// ContentType through MinIO's listing extension; another S3 service may leave it empty.
type MinioStore struct {
	client  *minio.Client
	core    minio.Core
	signer  *minio.Client // presigns for PublicURL; no network
	bucket  string
	timeout time.Duration
}

var _ Store = (*MinioStore)(nil)

// NewMinioStore returns a store for cfg. It makes no request, so a server can start while
// MinIO is down (Ping tells readiness); call EnsureBucket at start-up. It returns an error
// wrapping errs.ErrInvalid for a bad configuration.
func NewMinioStore(cfg MinioConfig) (*MinioStore, error) {
	if cfg.Endpoint == "" || strings.ContainsAny(cfg.Endpoint, "/?#") {
		return nil, errs.Field("endpoint", "must be host:port without scheme or path")
	}
	if err := s3utils.CheckValidBucketNameStrict(cfg.Bucket); err != nil {
		return nil, errs.Field("bucket", err.Error())
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	creds := credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        creds,
		Secure:       cfg.UseTLS,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
		Transport:    failFastTransport(),
		MaxRetries:   1, // no retries: an unreachable store is reported at once
	})
	if err != nil {
		return nil, errs.Field("endpoint", err.Error())
	}
	signer := client
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, errs.Field("public_url", "must be http(s)://host[:port] without a path")
		}
		signer, err = minio.New(u.Host, &minio.Options{
			Creds:        creds,
			Secure:       u.Scheme == "https",
			Region:       cfg.Region,
			BucketLookup: minio.BucketLookupPath,
		})
		if err != nil {
			return nil, errs.Field("public_url", err.Error())
		}
	}
	return &MinioStore{client: client, core: minio.Core{Client: client}, signer: signer, bucket: cfg.Bucket, timeout: cfg.Timeout}, nil
}

// failFastTransport is http.DefaultTransport with short connect and header timeouts.
func failFastTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 5 * time.Second
	// Completing a multipart upload of a large video can take a while before MinIO answers.
	t.ResponseHeaderTimeout = 2 * time.Minute
	t.MaxIdleConnsPerHost = 16
	return t
}

// Client returns the underlying minio-go client, for operations outside the Store contract
// (backups, bucket lifecycle rules).
func (s *MinioStore) Client() *minio.Client { return s.client }

// Bucket returns the bucket name.
func (s *MinioStore) Bucket() string { return s.bucket }

// withTimeout bounds a metadata request.
func (s *MinioStore) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// wrap maps a minio-go error onto the errs vocabulary.
func (s *MinioStore) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("media: %s: %w", what, err)
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "NoSuchKey", "NoSuchUpload":
		return fmt.Errorf("media: %s: %w", what, errs.ErrNotFound)
	case "NoSuchBucket":
		return fmt.Errorf("media: %s: bucket %q does not exist: %w", what, s.bucket, errs.ErrUnavailable)
	case "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "InvalidRange":
		return fmt.Errorf("media: %s: %s: %w", what, resp.Message, errs.ErrInvalid)
	case "EntityTooLarge":
		return fmt.Errorf("media: %s: %w", what, errs.ErrTooLarge)
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch":
		return fmt.Errorf("media: %s: the store refused our credentials (%s): %w", what, resp.Code, errs.ErrUnavailable)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("media: %s: %w", what, errs.ErrNotFound)
	case resp.StatusCode == 0 || resp.StatusCode >= 500:
		// No HTTP answer at all (refused, timed out) or a server failure.
		return fmt.Errorf("media: %s: %w (%w)", what, err, errs.ErrUnavailable)
	}
	return fmt.Errorf("media: %s: %w", what, err)
}

// EnsureBucket creates the bucket when it does not exist. It returns errs.ErrUnavailable
// when MinIO cannot be reached.
func (s *MinioStore) EnsureBucket(ctx context.Context) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return s.wrap("check bucket", err)
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{})
	if code := minio.ToErrorResponse(err).Code; code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" {
		return nil
	}
	return s.wrap("create bucket", err)
}

// PresignPut signs a PUT of the whole object with its Content-Type (see Store). MaxSize is
// checked for range but S3 cannot enforce it.
func (s *MinioStore) PresignPut(ctx context.Context, key string, opts PutOptions) (PresignedRequest, error) {
	if err := ValidateKey(key); err != nil {
		return PresignedRequest{}, err
	}
	if err := validateContentType(opts.ContentType); err != nil {
		return PresignedRequest{}, err
	}
	if _, err := capOrDefault(opts.MaxSize, MaxPartSize); err != nil {
		return PresignedRequest{}, err
	}
	expiry, err := expiryOrDefault(opts.Expiry)
	if err != nil {
		return PresignedRequest{}, err
	}
	now := time.Now().UTC()
	u, err := s.signer.PresignHeader(ctx, http.MethodPut, s.bucket, key, expiry, nil,
		http.Header{"Content-Type": {opts.ContentType}})
	if err != nil {
		return PresignedRequest{}, s.wrap("presign put", err)
	}
	return PresignedRequest{Method: "PUT", URL: u.String(), Headers: map[string]string{"Content-Type": opts.ContentType}, Expires: now.Add(expiry)}, nil
}

// CreateMultipartUpload starts an upload (see Store). MaxSize is not enforced by S3.
func (s *MinioStore) CreateMultipartUpload(ctx context.Context, key string, opts MultipartOptions) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if err := validateContentType(opts.ContentType); err != nil {
		return "", err
	}
	if opts.MaxSize < 0 {
		return "", errs.Field("max_size", "must not be negative")
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, key, minio.PutObjectOptions{ContentType: opts.ContentType})
	if err != nil {
		return "", s.wrap("create upload", err)
	}
	return id, nil
}

// PresignPart signs the PUT of one part (see Store). It does not check that the upload
// exists; S3 answers 404 to a part of an unknown upload.
func (s *MinioStore) PresignPart(ctx context.Context, key, uploadID string, partNumber int, expiry time.Duration) (PresignedRequest, error) {
	if err := ValidateKey(key); err != nil {
		return PresignedRequest{}, err
	}
	if err := validatePartNumber(partNumber); err != nil {
		return PresignedRequest{}, err
	}
	if uploadID == "" {
		return PresignedRequest{}, errs.Field("upload_id", "is required")
	}
	expiry, err := expiryOrDefault(expiry)
	if err != nil {
		return PresignedRequest{}, err
	}
	now := time.Now().UTC()
	q := url.Values{"uploadId": {uploadID}, "partNumber": {strconv.Itoa(partNumber)}}
	u, err := s.signer.Presign(ctx, http.MethodPut, s.bucket, key, expiry, q)
	if err != nil {
		return PresignedRequest{}, s.wrap("presign part", err)
	}
	return PresignedRequest{Method: "PUT", URL: u.String(), Headers: map[string]string{}, Expires: now.Add(expiry)}, nil
}

// CompleteMultipartUpload joins the parts (see Store); errs.ErrInvalid for a wrong ETag, a
// missing part or a part under MinPartSize; errs.ErrNotFound for an unknown upload.
func (s *MinioStore) CompleteMultipartUpload(ctx context.Context, key, uploadID string, parts []Part) (ObjectInfo, error) {
	if err := ValidateKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if err := validateParts(parts); err != nil {
		return ObjectInfo{}, err
	}
	cps := make([]minio.CompletePart, len(parts))
	for i, p := range parts {
		cps[i] = minio.CompletePart{PartNumber: p.Number, ETag: unquoteETag(p.ETag)}
	}
	if _, err := s.core.CompleteMultipartUpload(ctx, s.bucket, key, uploadID, cps, minio.PutObjectOptions{}); err != nil {
		return ObjectInfo{}, s.wrap("complete upload", err)
	}
	return s.Stat(ctx, key)
}

// AbortMultipartUpload discards an upload (see Store); an unknown upload is not an error.
func (s *MinioStore) AbortMultipartUpload(ctx context.Context, key, uploadID string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if uploadID == "" {
		return errs.Field("upload_id", "is required")
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	err := s.wrap("abort upload", s.core.AbortMultipartUpload(ctx, s.bucket, key, uploadID))
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	}
	return err
}

// countingReader counts the bytes read through it and notes the end of its reader.
type countingReader struct {
	r   io.Reader
	n   int64
	eof bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err == io.EOF {
		c.eof = true
	}
	return n, err
}

// Put stores r as the object at key (see Store); errs.ErrInvalid when r is not exactly size
// bytes long (nothing is kept then).
func (s *MinioStore) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (ObjectInfo, error) {
	if err := ValidateKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if err := validateContentType(contentType); err != nil {
		return ObjectInfo{}, err
	}
	if size < 0 || size > MaxPartSize {
		return ObjectInfo{}, errs.Field("size", "must be between 0 and 5 GiB")
	}
	cr := &countingReader{r: r}
	_, err := s.client.PutObject(ctx, s.bucket, key, io.LimitReader(cr, size), size, minio.PutObjectOptions{ContentType: contentType})
	if cr.eof && cr.n < size {
		// The reader ended early; S3 refuses a short body, so nothing was stored.
		return ObjectInfo{}, errs.Field("size", fmt.Sprintf("the body has %d bytes, not %d", cr.n, size))
	}
	if err != nil {
		return ObjectInfo{}, s.wrap("put", err)
	}
	if n, _ := io.ReadFull(r, make([]byte, 1)); n > 0 {
		if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
			return ObjectInfo{}, s.wrap("remove oversized put", err)
		}
		return ObjectInfo{}, errs.Field("size", fmt.Sprintf("the body is longer than %d bytes", size))
	}
	return s.Stat(ctx, key)
}

// Stat describes the object (see Store); errs.ErrNotFound when missing.
func (s *MinioStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := ValidateKey(key); err != nil {
		return ObjectInfo{}, err
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return ObjectInfo{}, s.wrap(fmt.Sprintf("stat %q", key), err)
	}
	return objectInfo(oi), nil
}

func objectInfo(oi minio.ObjectInfo) ObjectInfo {
	ct := oi.ContentType
	if ct == "" {
		ct = oi.UserMetadata["content-type"]
	}
	if ct == "" {
		ct = oi.UserMetadata["Content-Type"]
	}
	return ObjectInfo{Key: oi.Key, Size: oi.Size, ContentType: ct, ETag: unquoteETag(oi.ETag), LastModified: oi.LastModified.UTC()}
}

// ReadRange reads part of the object (see Store); errs.ErrNotFound when missing.
func (s *MinioStore) ReadRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, errs.Field("offset", "must not be negative")
	}
	if length == 0 {
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	var opts minio.GetObjectOptions
	switch {
	case length < 0 && offset > 0:
		_ = opts.SetRange(offset, 0)
	case length > 0:
		_ = opts.SetRange(offset, offset+length-1)
	}
	body, _, _, err := s.core.GetObject(ctx, s.bucket, key, opts)
	if minio.ToErrorResponse(err).Code == "InvalidRange" {
		// The offset is at or past the end: an empty read, if the object exists.
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("read %q", key), err)
	}
	return body, nil
}

// PresignGet signs a download (see Store), with Content-Disposition from opts. It does not
// check that the object exists; the URL answers 404 when it does not.
func (s *MinioStore) PresignGet(ctx context.Context, key string, opts GetOptions) (PresignedRequest, error) {
	if err := ValidateKey(key); err != nil {
		return PresignedRequest{}, err
	}
	expiry, err := expiryOrDefault(opts.Expiry)
	if err != nil {
		return PresignedRequest{}, err
	}
	q := url.Values{}
	if opts.Filename != "" {
		if _, err := SanitizeFilename(opts.Filename); err != nil {
			return PresignedRequest{}, err
		}
	}
	if opts.Filename != "" || opts.Inline {
		q.Set("response-content-disposition", ContentDisposition(opts.Filename, opts.Inline))
	}
	now := time.Now().UTC()
	u, err := s.signer.PresignedGetObject(ctx, s.bucket, key, expiry, q)
	if err != nil {
		return PresignedRequest{}, s.wrap("presign get", err)
	}
	return PresignedRequest{Method: "GET", URL: u.String(), Headers: map[string]string{}, Expires: now.Add(expiry)}, nil
}

// Delete removes the object (see Store).
func (s *MinioStore) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return nil
	}
	return s.wrap(fmt.Sprintf("delete %q", key), err)
}

// List yields the objects under prefix in key order (see Store).
func (s *MinioStore) List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		if err := validatePrefix(prefix); err != nil {
			yield(ObjectInfo{}, err)
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel() // stops minio-go's listing goroutine when the caller stops early
		for oi := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithMetadata: true}) {
			if oi.Err != nil {
				yield(ObjectInfo{}, s.wrap(fmt.Sprintf("list %q", prefix), oi.Err))
				return
			}
			if !yield(objectInfo(oi), nil) {
				return
			}
		}
	}
}

// Ping checks that MinIO answers and the bucket exists; errs.ErrUnavailable when not.
func (s *MinioStore) Ping(ctx context.Context) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		err = s.wrap("ping", err)
		if !errors.Is(err, errs.ErrUnavailable) && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("%w (%w)", err, errs.ErrUnavailable)
		}
		return err
	}
	if !ok {
		return fmt.Errorf("media: bucket %q does not exist: %w", s.bucket, errs.ErrUnavailable)
	}
	return nil
}
