package frontend

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/html"

	"hoctap/accounts"
	"hoctap/assessment"
	"hoctap/assessment/importer"
	"hoctap/courses"
	"hoctap/reports"
)

// templateKey finds the catalogue keys templates use: {{.T "key" …}} or {{$.T "key" …}}.
var templateKey = regexp.MustCompile(`\.T "([^"]+)"`)

// actionRE matches a template action, which the visible-text check removes first.
var actionRE = regexp.MustCompile(`(?s)\{\{.*?\}\}`)

// dynamicPrefixes are keys templates and code build at run time; each is checked over
// every value it can take in TestDynamicKeysExist.
var dynamicPrefixes = []string{"error.", "role.", "kind.", "status.", "qtype.", "format.", "pace.", "metric."}

func templateSources(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := templateFiles.ReadFile(p)
		out[p] = string(raw)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	cs, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages {
		for k, v := range cs[lang] {
			if strings.TrimSpace(v) == "" {
				t.Errorf("i18n/%s.json: %q is empty", lang, k)
			}
		}
	}
	if len(cs["vi"]) != len(cs["en"]) {
		t.Errorf("vi has %d keys, en %d", len(cs["vi"]), len(cs["en"]))
	}
}

func TestTemplateKeysExist(t *testing.T) {
	cs, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for name, src := range templateSources(t) {
		for _, m := range templateKey.FindAllStringSubmatch(src, -1) {
			used[m[1]] = true
			for _, lang := range Languages {
				if _, ok := cs[lang][m[1]]; !ok {
					t.Errorf("%s uses %q, which i18n/%s.json lacks", name, m[1], lang)
				}
			}
		}
	}
	if len(used) < 20 {
		t.Fatalf("found only %d keys in templates; is the pattern right?", len(used))
	}
}

// TestGoKeysExist checks the keys the Go code names (flash notices, navigation, field
// reasons, page titles): every string literal that starts with a catalogue namespace.
func TestGoKeysExist(t *testing.T) {
	cs, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	namespaces := map[string]bool{}
	for k := range cs[DefaultLanguage] {
		namespaces[strings.SplitN(k, ".", 2)[0]] = true
	}
	literal := regexp.MustCompile(`"([a-z0-9_]+)\.([a-z0-9_.]+)"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			key := m[1] + "." + m[2]
			if !namespaces[m[1]] || strings.HasSuffix(key, ".") {
				continue
			}
			for _, lang := range Languages {
				if _, ok := cs[lang][key]; !ok {
					t.Errorf("%s names %q, which i18n/%s.json lacks", f, key, lang)
				}
			}
		}
	}
}

func TestDynamicKeysExist(t *testing.T) {
	cs, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range accounts.Roles {
		keys = append(keys, "role."+string(r))
	}
	for _, k := range []courses.Kind{courses.KindVideo, courses.KindPDF, courses.KindSlides, courses.KindText} {
		keys = append(keys, "kind."+string(k))
	}
	for _, s := range []courses.Status{courses.StatusDraft, courses.StatusPublished, courses.StatusArchived} {
		keys = append(keys, "status."+string(s))
	}
	for _, ty := range []assessment.Type{assessment.TypeSingle, assessment.TypeMultiple, assessment.TypeTrueFalse, assessment.TypeShortAnswer,
		assessment.TypeNumerical, assessment.TypeMatching, assessment.TypeOrdering, assessment.TypeEssay, assessment.TypeDescription} {
		keys = append(keys, "qtype."+string(ty))
	}
	for _, f := range formats {
		keys = append(keys, "format."+string(f))
	}
	for _, p := range []reports.Pace{reports.PaceMet, reports.PaceOnTrack, reports.PaceBehind, reports.PaceOverdue, reports.PaceNoStaff} {
		keys = append(keys, "pace."+string(p))
	}
	for _, m := range []reports.Metric{reports.MetricCompleted, reports.MetricPassed, reports.MetricAttended} {
		keys = append(keys, "metric."+string(m))
	}
	for _, code := range []string{"invalid", "not_found", "conflict", "forbidden", "unauthenticated", "too_large", "rate_limited", "unavailable", "internal", "form_expired"} {
		keys = append(keys, "error."+code+".title", "error."+code+".text")
	}
	for _, k := range keys {
		for _, lang := range Languages {
			if _, ok := cs[lang][k]; !ok {
				t.Errorf("i18n/%s.json lacks %q", lang, k)
			}
		}
	}
	for name, src := range templateSources(t) {
		for _, m := range regexp.MustCompile(`\.T \(print "([^"]+)"`).FindAllStringSubmatch(src, -1) {
			if !slices.Contains(dynamicPrefixes, m[1]) {
				t.Errorf("%s builds keys from %q, which TestDynamicKeysExist does not check", name, m[1])
			}
		}
	}
}

// visibleAttrs are attributes a person sees or hears (screen readers read aria-label).
var visibleAttrs = map[string]bool{"title": true, "placeholder": true, "alt": true, "aria-label": true, "label": true, "summary": true}

// TestNoHardCodedText fails when a template holds visible text outside a template
// action: every word a person reads must come from the catalogues.
func TestNoHardCodedText(t *testing.T) {
	hasLetter := func(s string) bool { return strings.IndexFunc(s, unicode.IsLetter) >= 0 }
	for name, src := range templateSources(t) {
		stripped := actionRE.ReplaceAllString(src, "")
		z := html.NewTokenizer(strings.NewReader(stripped))
		var stack []string
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			tok := z.Token()
			switch tt {
			case html.StartTagToken:
				if !slices.Contains([]string{"br", "img", "input", "link", "meta"}, tok.Data) {
					stack = append(stack, tok.Data)
				}
			case html.EndTagToken:
				if n := len(stack); n > 0 {
					stack = stack[:n-1]
				}
			case html.TextToken:
				top := ""
				if len(stack) > 0 {
					top = stack[len(stack)-1]
				}
				text := tok.Data
				if top == "noscript" { // the tokenizer keeps its markup as raw text
					text = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(text, "")
				}
				if top != "script" && top != "style" && hasLetter(text) {
					t.Errorf("%s: hard-coded text %q; use a catalogue key", name, strings.TrimSpace(tok.Data))
				}
			}
			if tt == html.StartTagToken || tt == html.SelfClosingTagToken {
				typ := ""
				for _, a := range tok.Attr {
					if a.Key == "type" {
						typ = a.Val
					}
				}
				for _, a := range tok.Attr {
					visible := visibleAttrs[a.Key] || (a.Key == "value" && (typ == "submit" || typ == "button"))
					if visible && hasLetter(a.Val) {
						t.Errorf("%s: hard-coded %s=%q on <%s>; use a catalogue key", name, a.Key, a.Val, tok.Data)
					}
				}
			}
		}
	}
}

// TestPagesParse makes sure every page template parses with the layout and names its
// title and content.
func TestPagesParse(t *testing.T) {
	pages, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range pages {
		for _, want := range []string{"layout", "title", "content"} {
			if p.Lookup(want) == nil {
				t.Errorf("page %s has no template %q", name, want)
			}
		}
	}
}

// TestImporterCodesHaveMessages: every problem code the question importer reports has a
// message in every catalogue, naming as many values as the code carries; and no catalogue
// keeps a message for a code the importer no longer has.
func TestImporterCodesHaveMessages(t *testing.T) {
	cs, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, code := range importer.Codes() {
		key := importErrorPrefix + string(code)
		codes[key] = true
		n := importer.ArgCount(code)
		for _, lang := range Languages {
			msg, ok := cs[lang][key]
			if !ok {
				t.Errorf("i18n/%s.json lacks %q", lang, key)
				continue
			}
			verbs := 0
			if n > 0 { // text() formats only when there are args; literal % is fine otherwise
				verbs = strings.Count(strings.ReplaceAll(msg, "%%", ""), "%")
			}
			if verbs != n {
				t.Errorf("i18n/%s.json %q names %d values, the code carries %d: %q", lang, key, verbs, n, msg)
			}
			args := make([]any, n)
			for i := range args {
				args[i] = "x"
			}
			if got := cs.text(lang, key, args...); strings.Contains(got, "%!") {
				t.Errorf("i18n/%s.json %q formats as %q", lang, key, got)
			}
		}
	}
	for _, lang := range Languages {
		for key := range cs[lang] {
			if strings.HasPrefix(key, importErrorPrefix) && !codes[key] {
				t.Errorf("i18n/%s.json has %q, which is no importer code", lang, key)
			}
		}
	}
}
