package media

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"hoctap/internal/errs"
)

// MaxFilenameLength is the longest file name accepted, in bytes (the common file-system limit).
const MaxFilenameLength = 255

// SanitizeFilename checks a file name a user supplied (for example on upload) and returns it
// trimmed of surrounding white space and in Unicode NFC, so "Bài giảng.pdf" typed on a Mac and
// on Windows is the same name. It refuses rather than repairs a hostile name: empty or blank;
// longer than MaxFilenameLength bytes; not UTF-8; containing "/" or "\"; containing control
// characters or bidirectional/invisible format characters (which disguise extensions, as in
// "gpj.exe" shown reversed); or made only of dots. The error wraps errs.ErrInvalid and names
// the field "filename".
func SanitizeFilename(name string) (string, error) {
	bad := func(reason string) (string, error) { return "", errs.Field("filename", reason) }
	if !utf8.ValidString(name) {
		return bad("must be UTF-8")
	}
	name = norm.NFC.String(strings.TrimSpace(name))
	switch {
	case name == "":
		return bad("must not be empty")
	case len(name) > MaxFilenameLength:
		return bad("must be at most 255 bytes")
	case strings.ContainsAny(name, `/\`):
		return bad("must not contain / or \\")
	case strings.Trim(name, ".") == "":
		return bad("must not be only dots")
	}
	for _, r := range name {
		switch {
		case unicode.IsControl(r):
			return bad("must not contain control characters")
		case unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			return bad("must not contain invisible or direction-changing characters")
		}
	}
	return name, nil
}
