// Package textfold folds Vietnamese text for searching: "Nguyễn Văn Cừ", "NGUYEN VAN CU"
// and the same name typed in decomposed (NFD) Unicode all fold to "nguyen van cu".
package textfold

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold returns s lower-cased, without diacritics (đ becomes d), with runs of white space
// collapsed to one space and trimmed. It is the key stored beside names and titles so that
// a query folded the same way matches by plain substring.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Lower returns s in NFC, lower-cased, with white space collapsed like Fold but keeping its
// diacritics, so that a search can rank exact-accent matches before folded ones.
func Lower(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(norm.NFC.String(s))), " ")
}
