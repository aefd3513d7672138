package frontend

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
)

//go:embed templates
var templateFiles embed.FS

// parsePages parses every page template (templates/*.html) together with the layout and
// the shared partials (templates/partials/*.html). Each page defines "title" and
// "content"; the layout executes them.
func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("base").Funcs(templateFuncs).ParseFS(templateFiles, "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parsing the layout: %w", err)
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(templateFiles, n)
		}
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", n, err)
		}
		pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return pages, nil
}

// templateFuncs are the few helpers templates need beyond the view's methods.
var templateFuncs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
}
