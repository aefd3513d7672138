package frontend

import (
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	tests := map[string]string{
		"":                     "/",
		"/learn":               "/learn",
		"/admin/users?q=an":    "/admin/users?q=an",
		"//evil.example/x":     "/",
		"https://evil.example": "/",
		"/\\evil.example":      "/",
		"learn":                "/",
		"/a\r\nSet-Cookie: x":  "/",
	}
	for in, want := range tests {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"2,5", 2.5, true},
		{"2.5", 2.5, true},
		{"1.234,5", 1234.5, true},
		{"-3", -3, true},
		{"", 0, false},
		{"hai", 0, false},
		{"1,2,3", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseDecimal(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseDecimal(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParagraphs(t *testing.T) {
	got := paragraphs("  Một\r\n\r\nHai\ndòng\n\n\n  \n\nBa  ")
	want := []string{"Một", "Hai\ndòng", "Ba"}
	if len(got) != len(want) {
		t.Fatalf("paragraphs = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("paragraph %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	csp := contentSecurityPolicy([]string{"http://127.0.0.1:9000", "not a url", "https://media.example.gov.vn/path"})
	for _, want := range []string{"script-src 'self';", "style-src 'self';", "object-src 'none'", "frame-ancestors 'none'",
		"media-src 'self' blob: http://127.0.0.1:9000 https://media.example.gov.vn;", "connect-src 'self' http://127.0.0.1:9000 https://media.example.gov.vn;"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q: %s", want, csp)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "not a url") {
		t.Errorf("CSP allows too much: %s", csp)
	}
}
