package media

import (
	"bytes"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
)

// SniffLength is how many leading bytes Sniff looks at.
const SniffLength = 512

// lectureTypes are the content types a lecture may have.
var lectureTypes = []string{
	"video/mp4", "video/webm", "application/pdf",
	"image/png", "image/jpeg", "image/gif", "image/webp",
}

// AllowedLectureTypes returns the content types a lecture upload may have: MP4 and WebM
// video, PDF (documents and slides), and PNG, JPEG, GIF and WebP images.
func AllowedLectureTypes() []string { return slices.Clone(lectureTypes) }

// IsAllowedLectureType reports whether contentType (parameters ignored) is one of
// AllowedLectureTypes.
func IsAllowedLectureType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && slices.Contains(lectureTypes, mt)
}

// officeTypes are the ZIP-based office formats, told apart only by extension.
var officeTypes = map[string]string{
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

// Sniff returns the content type of data from its first bytes (up to SniffLength; pass what
// was read from the start of the object). The bytes decide: magic numbers for MP4 (an "ftyp"
// box; QuickTime and M4A brands are told apart), WebM (EBML header with DocType "webm";
// other Matroska is video/x-matroska), PDF, PNG, JPEG, GIF and WebP, then
// http.DetectContentType. The filename never overrides what the bytes say: it only refines
// a ZIP container into the office format its extension names. The result has no parameters
// except the charset that http.DetectContentType gives text.
func Sniff(first512 []byte, filename string) string {
	b := first512
	if len(b) > SniffLength {
		b = b[:SniffLength]
	}
	switch {
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		switch string(b[8:12]) {
		case "qt  ":
			return "video/quicktime"
		case "M4A ", "M4B ":
			return "audio/mp4"
		}
		return "video/mp4"
	case bytes.HasPrefix(b, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		// The DocType element (0x4282) follows within the EBML header.
		if i := bytes.Index(b, []byte{0x42, 0x82}); i >= 0 && i+2 < len(b) {
			rest := b[i+3:]
			if bytes.HasPrefix(rest, []byte("webm")) {
				return "video/webm"
			}
		}
		return "video/x-matroska"
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "application/pdf"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif"
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp"
	}
	ct := http.DetectContentType(b)
	if ct == "application/zip" {
		if t, ok := officeTypes[strings.ToLower(path.Ext(filename))]; ok {
			return t
		}
	}
	return ct
}
