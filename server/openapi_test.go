package server

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var fiberParam = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)\??`)

// registeredRoutes lists "METHOD /path" for every route of the app, in OpenAPI's path
// syntax ({id} for :id, {path} for a trailing *).
func registeredRoutes(s *Server) []string {
	var out []string
	for _, r := range s.app.GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "USE" {
			continue
		}
		p := fiberParam.ReplaceAllString(r.Path, "{$1}")
		p = strings.ReplaceAll(p, "*", "{path}")
		out = append(out, r.Method+" "+p)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func documentedRoutes(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("docs/openapi.yaml: openapi version %q, want 3.x", doc.OpenAPI)
	}
	var out []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	ts := newTestServer(t)
	registered, documented := registeredRoutes(ts.Server), documentedRoutes(t)
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is registered but missing from docs/openapi.yaml", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(registered, r) {
			t.Errorf("docs/openapi.yaml documents %s, which is not registered", r)
		}
	}
}
