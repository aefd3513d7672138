// Package media stores lecture media (videos, PDFs, slides, images) and is the only code that
// knows where the bytes live.
//
// # The contract
//
// Lectures never pass through the application server's memory. A Store hands out presigned
// URLs and the browser talks to the store directly:
//
//   - Upload of a small file: PresignPut gives a PUT URL bound to one key, one Content-Type
//     (the browser must send exactly the header in PresignedRequest.Headers) and an expiry.
//   - Upload of a large file: CreateMultipartUpload, then one PresignPart URL per part (every
//     part but the last at least MinPartSize, as S3 requires); the browser PUTs each part and
//     reads its ETag response header; CompleteMultipartUpload joins the parts;
//     AbortMultipartUpload discards them.
//   - Download: PresignGet gives a GET URL that honours Range (206 Partial Content), so a video
//     player can seek, with an optional Content-Disposition naming the original file.
//
// The application itself only signs URLs and checks what arrived: Stat (size, content type,
// ETag) and ReadRange (the first SniffLength bytes for Sniff; whole objects for backup), and
// deletes. Nothing the client claims is trusted: after an upload the caller Stats the
// object, reads its first SniffLength bytes and asks CheckUploaded, which compares the stored
// size with the declared size and the limit and the sniffed type with the allowed types and
// the stored type; the caller deletes the object when it fails. S3 cannot cap the size of a
// presigned PUT, so this check after the upload is the real limit; the disk store also
// refuses oversized bodies while they arrive (413). PlanParts chooses the part size of a
// multipart upload (files above SinglePutLimit).
//
// Object keys are chosen by the application, never taken from a user (see ValidateKey); a
// user's file name is checked with SanitizeFilename and only ever used for
// Content-Disposition.
//
// # Errors
//
// Every Store method returns errors wrapping the internal/errs vocabulary: errs.ErrNotFound
// for a missing object or upload, errs.ErrInvalid for bad keys, part lists, sizes or ETags,
// errs.ErrTooLarge for an upload past its cap, errs.ErrConflict when the disk store cannot
// place a key, and errs.ErrUnavailable when the backend cannot be reached or refuses our
// credentials. The stores fail fast (short connect and request timeouts, no retries), so an
// outage shows as a quick 503 rather than hung requests; Ping is the readiness check.
//
// # Implementations
//
// MinioStore (MinIO or any S3 API, via minio-go) is the production store. DiskStore keeps
// files under a directory and serves the same contract itself: it signs its URLs with
// HMAC-SHA256 (method, key, expiry, content type, size cap, upload id and part number,
// download name) and its Handler verifies and serves them with net/http (http.ServeContent
// for ranges). The server mounts Handler at MountPath. The package storetest holds the
// contract test suite; both stores pass it, the MinIO store against a real MinIO server.
package media
