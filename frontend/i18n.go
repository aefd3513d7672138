package frontend

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
)

//go:embed i18n/*.json
var catalogueFS embed.FS

// Languages are the interface languages, the default first.
var Languages = []string{"vi", "en"}

// DefaultLanguage is used for anonymous visitors without a language cookie.
const DefaultLanguage = "vi"

// catalogue maps a message key to its text in one language. Texts may hold fmt verbs
// (%s, %d) filled by the template's arguments.
type catalogue map[string]string

// catalogues are the message catalogues by language, read once from the embedded files.
type catalogues map[string]catalogue

// loadCatalogues reads i18n/<lang>.json for every language. A catalogue that is missing,
// malformed or lacks a key the default one has is an error: every text must exist in
// every language.
func loadCatalogues() (catalogues, error) {
	out := catalogues{}
	for _, lang := range Languages {
		raw, err := catalogueFS.ReadFile("i18n/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("reading the %s catalogue: %w", lang, err)
		}
		var c catalogue
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("parsing i18n/%s.json: %w", lang, err)
		}
		out[lang] = c
	}
	for _, lang := range Languages[1:] {
		for k := range out[DefaultLanguage] {
			if _, ok := out[lang][k]; !ok {
				return nil, fmt.Errorf("i18n/%s.json lacks the key %q", lang, k)
			}
		}
		for k := range out[lang] {
			if _, ok := out[DefaultLanguage][k]; !ok {
				return nil, fmt.Errorf("i18n/%s.json has the key %q, which i18n/%s.json lacks", lang, k, DefaultLanguage)
			}
		}
	}
	return out, nil
}

// text returns the message key in lang, formatted with args. A missing key shows as the
// key itself in brackets, so it is noticed (the catalogue test keeps it from happening).
func (cs catalogues) text(lang, key string, args ...any) string {
	s, ok := cs[lang][key]
	if !ok {
		s, ok = cs[DefaultLanguage][key]
	}
	if !ok {
		return "[" + key + "]"
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// has reports whether key exists in the catalogues.
func (cs catalogues) has(key string) bool {
	_, ok := cs[DefaultLanguage][key]
	return ok
}

// validLanguage reports whether lang is one of Languages.
func validLanguage(lang string) bool { return slices.Contains(Languages, lang) }
