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
	base, err := template.New("base").ParseFS(templateFiles, "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parsing the layout: %w", err)
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		t, err := template.Must(base.Clone()).ParseFS(templateFiles, n)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", n, err)
		}
		pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return pages, nil
}
