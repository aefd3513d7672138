package frontend

import (
	"cmp"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Vietnamese names are written family name first (Nguyễn Văn An) and sorted by the given
// name, the last word; ties go to the middle names and then the family name. Letters
// follow the Vietnamese alphabet (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v
// x y), so "Ân" sorts after every "An…"/"Ăn…"; within a part, tone marks decide only
// between words whose letters are all equal, in dictionary order: none, huyền, hỏi, ngã,
// sắc, nặng. Case decides last.

// vietnameseAlphabet ranks the base letters; letters Vietnamese does not use (f, j, w, z)
// take their Latin places so foreign names still sort sensibly.
const vietnameseAlphabet = "a ă â b c d đ e ê f g h i j k l m n o ô ơ p q r s t u ư v w x y z"

var letterRank = func() map[string]int {
	m := map[string]int{}
	for i, l := range strings.Fields(vietnameseAlphabet) {
		m[norm.NFC.String(l)] = 100 + i
	}
	return m
}()

// Combining marks: vowel modifiers change the letter, tone marks only the secondary key.
const (
	markBreve      = '\u0306'
	markCircumflex = '\u0302'
	markHorn       = '\u031B'
)

var toneRank = map[rune]int{
	'\u0300': 1, // huyền (grave)
	'\u0309': 2, // hỏi (hook above)
	'\u0303': 3, // ngã (tilde)
	'\u0301': 4, // sắc (acute)
	'\u0323': 5, // nặng (dot below)
}

// sortKey is a word's or name's collation key at three strengths.
type sortKey struct {
	primary   []int // letters
	secondary []int // tone of each letter
	tertiary  []int // 1 for an upper-case letter
}

// textKey builds the collation key of s: each base letter with its vowel modifiers is one
// primary unit; tone marks go to the secondary key.
func textKey(s string) sortKey {
	var k sortKey
	d := []rune(norm.NFD.String(s))
	for i := 0; i < len(d); i++ {
		r := d[i]
		if unicode.Is(unicode.Mn, r) {
			continue // a mark without a letter before it
		}
		upper := unicode.IsUpper(r)
		base := string(unicode.ToLower(r))
		tone := 0
		for i+1 < len(d) && unicode.Is(unicode.Mn, d[i+1]) {
			i++
			switch m := d[i]; m {
			case markBreve, markCircumflex, markHorn:
				base += string(m)
			default:
				if t, ok := toneRank[m]; ok {
					tone = t
				}
			}
		}
		rank, ok := letterRank[norm.NFC.String(base)]
		if !ok && base == " " {
			rank, ok = 0, true
		}
		if !ok {
			// Digits, punctuation and other scripts: keep their code point, after the
			// separator and before letters for digits, after letters otherwise.
			base := []rune(norm.NFC.String(base))[0]
			switch {
			case unicode.IsDigit(base):
				rank = 10 + int(base-'0')
			default:
				rank = 1000 + int(base)
			}
		}
		k.primary = append(k.primary, rank)
		k.secondary = append(k.secondary, tone)
		t := 0
		if upper {
			t = 1
		}
		k.tertiary = append(k.tertiary, t)
	}
	return k
}

// nameKey orders a full name's words as given name, middle names, family name; each part
// is compared whole (letters, then tones) before the next, so every "Anh" comes before
// every "Ánh" whatever their family names.
func nameKey(name string) []sortKey {
	words := strings.Fields(name)
	if len(words) == 0 {
		return nil
	}
	parts := []sortKey{textKey(words[len(words)-1])}
	if len(words) > 2 {
		parts = append(parts, textKey(strings.Join(words[1:len(words)-1], " ")))
	} else {
		parts = append(parts, sortKey{})
	}
	if len(words) > 1 {
		parts = append(parts, textKey(words[0]))
	}
	return parts
}

func compareKeys(a, b sortKey) int {
	if c := slices.Compare(a.primary, b.primary); c != 0 {
		return c
	}
	if c := slices.Compare(a.secondary, b.secondary); c != 0 {
		return c
	}
	return slices.Compare(a.tertiary, b.tertiary)
}

// compareNameKeys compares part by part on letters and tones, then on case.
func compareNameKeys(a, b []sortKey) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := slices.Compare(a[i].primary, b[i].primary); c != 0 {
			return c
		}
		if c := slices.Compare(a[i].secondary, b[i].secondary); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	for i := range a {
		if c := slices.Compare(a[i].tertiary, b[i].tertiary); c != 0 {
			return c
		}
	}
	return 0
}

// CompareNames orders two Vietnamese full names as a class list does: by given name (the
// last word), then middle names, then family name, each in Vietnamese alphabetical order
// with tone marks as the secondary order; case last. NFC and NFD spellings are equal.
// It returns -1, 0 or +1.
func CompareNames(a, b string) int {
	if c := compareNameKeys(nameKey(a), nameKey(b)); c != 0 {
		return c
	}
	return cmp.Compare(norm.NFC.String(a), norm.NFC.String(b))
}

// CompareText orders two strings (unit names, course titles) in Vietnamese alphabetical
// order, word by word from the left, with tone marks secondary.
func CompareText(a, b string) int {
	if c := compareKeys(textKey(a), textKey(b)); c != 0 {
		return c
	}
	return cmp.Compare(norm.NFC.String(a), norm.NFC.String(b))
}

// SortByName sorts items in place by the Vietnamese order of the full name that name
// returns (see CompareNames); items with equal names keep their order.
func SortByName[T any](items []T, name func(T) string) {
	type keyed struct {
		key  []sortKey
		name string
		item T
	}
	ks := make([]keyed, len(items))
	for i, it := range items {
		n := name(it)
		ks[i] = keyed{nameKey(n), norm.NFC.String(n), it}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		if c := compareNameKeys(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	for i := range ks {
		items[i] = ks[i].item
	}
}
