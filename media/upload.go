package media

import (
	"fmt"
	"mime"

	"hoctap/internal/errs"
)

// Upload sizing. A browser sends a file of up to SinglePutLimit bytes in one presigned PUT
// and a larger one in parts, so a dropped connection costs one part, not the whole video.
const (
	SinglePutLimit  = 64 << 20
	DefaultPartSize = 16 << 20
)

// PlanParts returns the part size and the number of parts for a multipart upload of size
// bytes: parts of DefaultPartSize, grown in whole MiB when more than MaxParts would be
// needed; the last part holds the rest. It returns errs.ErrInvalid for a size that is not
// positive, and errs.ErrTooLarge past MaxParts*MaxPartSize.
func PlanParts(size int64) (partSize int64, count int, err error) {
	if size <= 0 {
		return 0, 0, errs.Field("size", "must be positive")
	}
	if size > MaxParts*MaxPartSize {
		return 0, 0, fmt.Errorf("media: %d bytes is more than one object can hold: %w", size, errs.ErrTooLarge)
	}
	partSize = DefaultPartSize
	if least := (size + MaxParts - 1) / MaxParts; least > partSize {
		partSize = (least + 1<<20 - 1) / (1 << 20) * (1 << 20)
	}
	return partSize, int((size + partSize - 1) / partSize), nil
}

// CheckUploaded decides whether an uploaded object may be kept, from its Stat and its first
// bytes (ReadRange(key, 0, SniffLength)); it never trusts what the client said. The stored
// size must equal declaredSize and be at most maxSize (errs.ErrTooLarge), and the sniffed
// type must be allowed and equal the content type the object was stored with (which is the
// type the client declared and the upload was signed for), so a PDF cannot be served as a
// video nor HTML as a PDF (errs.ErrInvalid). allowed is the list of acceptable types, for
// lectures AllowedLectureTypes(). It returns the content type. The caller deletes the object
// when it returns an error.
func CheckUploaded(info ObjectInfo, head []byte, filename string, declaredSize, maxSize int64, allowed []string) (string, error) {
	if maxSize > 0 && info.Size > maxSize {
		return "", fmt.Errorf("media: the upload has %d bytes, more than the %d allowed: %w", info.Size, maxSize, errs.ErrTooLarge)
	}
	if info.Size != declaredSize {
		return "", errs.Field("size", fmt.Sprintf("the upload has %d bytes, not the %d declared", info.Size, declaredSize))
	}
	sniffed := Sniff(head, filename)
	ok := false
	for _, a := range allowed {
		if sameMediaType(a, sniffed) {
			ok = true
			break
		}
	}
	if !ok {
		return "", errs.Field("content_type", fmt.Sprintf("%s files are not accepted", sniffed))
	}
	if !sameMediaType(info.ContentType, sniffed) {
		return "", errs.Field("content_type", fmt.Sprintf("the file is %s, not %s as declared", sniffed, info.ContentType))
	}
	return sniffed, nil
}

// sameMediaType compares two content types without their parameters.
func sameMediaType(a, b string) bool {
	ma, _, errA := mime.ParseMediaType(a)
	mb, _, errB := mime.ParseMediaType(b)
	return errA == nil && errB == nil && ma == mb
}
