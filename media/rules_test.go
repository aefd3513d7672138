package media_test

import (
	"errors"
	"mime"
	"slices"
	"strings"
	"testing"

	"hoctap/internal/errs"
	"hoctap/media"
)

func TestSanitizeFilename(t *testing.T) {
	long := strings.Repeat("a", 500)
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"Bài giảng 1.pdf", "Bài giảng 1.pdf", true},
		{"  video.mp4\t", "video.mp4", true},
		{"Ba\u0300i.pdf", "Bài.pdf", true}, // NFD (macOS) becomes NFC
		{".bashrc", ".bashrc", true},
		{"a..b", "a..b", true},
		{"báo cáo \"quý\" 3.xlsx", "báo cáo \"quý\" 3.xlsx", true},
		{strings.Repeat("đ", 127) + "a", strings.Repeat("đ", 127) + "a", true}, // 255 bytes
		{strings.Repeat("a", 255), strings.Repeat("a", 255), true},
		{strings.Repeat("a", 256), "", false},
		{strings.Repeat("đ", 128), "", false}, // 256 bytes in 128 characters
		{long, "", false},
		{"", "", false},
		{"   ", "", false},
		{".", "", false},
		{"..", "", false},
		{"....", "", false},
		{" .. ", "", false},
		{"../etc/passwd", "", false},
		{"a/b.pdf", "", false},
		{`a\b.pdf`, "", false},
		{`..\..\boot.ini`, "", false},
		{"a\x00b.pdf", "", false},
		{"a\nb.pdf", "", false},
		{"a\rb.pdf", "", false},
		{"a\x7fb.pdf", "", false},
		{"a\u0085b.pdf", "", false},       // C1 control
		{"photo\u202egpj.exe", "", false}, // right-to-left override disguises .exe
		{"a\u200bb.pdf", "", false},       // zero-width space
		{"a\ufeffb.pdf", "", false},       // byte order mark
		{"bad\xffutf8.pdf", "", false},    // not UTF-8
		{"\u2066isolate\u2069.pdf", "", false},
	} {
		got, err := media.SanitizeFilename(tc.in)
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("SanitizeFilename(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		if !errors.Is(err, errs.ErrInvalid) || got != "" {
			t.Errorf("SanitizeFilename(%q) = %q, %v; want ErrInvalid", tc.in, got, err)
		}
		var fe *errs.FieldError
		if errors.As(err, &fe) && fe.Fields["filename"] == "" {
			t.Errorf("SanitizeFilename(%q): error %v does not name the filename field", tc.in, err)
		}
	}
}

func TestSniff(t *testing.T) {
	pad := func(b string) []byte { return append([]byte(b), make([]byte, 600)...) }
	ebml := func(doctype string) []byte {
		h := []byte{0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01,
			0x42, 0xF2, 0x81, 0x04, 0x42, 0xF3, 0x81, 0x08, 0x42, 0x82, 0x80 | byte(len(doctype))}
		return append(h, doctype...)
	}
	for _, tc := range []struct {
		name     string
		data     []byte
		filename string
		want     string
	}{
		{"mp4 isom", pad("\x00\x00\x00\x20ftypisom\x00\x00\x02\x00"), "a.mp4", "video/mp4"},
		{"mp4 mp42", pad("\x00\x00\x00\x18ftypmp42"), "a.bin", "video/mp4"},
		{"mp4 named pdf", pad("\x00\x00\x00\x18ftypmp42"), "a.pdf", "video/mp4"},
		{"quicktime", pad("\x00\x00\x00\x14ftypqt  "), "a.mov", "video/quicktime"},
		{"m4a", pad("\x00\x00\x00\x20ftypM4A "), "a.m4a", "audio/mp4"},
		{"webm", ebml("webm"), "a.webm", "video/webm"},
		{"matroska", ebml("matroska"), "a.mkv", "video/x-matroska"},
		{"ebml cut short", []byte{0x1A, 0x45, 0xDF, 0xA3}, "a.webm", "video/x-matroska"},
		{"pdf", pad("%PDF-1.7\n"), "a.pdf", "application/pdf"},
		{"png", pad("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "a.png", "image/png"},
		{"jpeg", pad("\xff\xd8\xff\xe0\x00\x10JFIF"), "a.jpg", "image/jpeg"},
		{"gif87", pad("GIF87a"), "a.gif", "image/gif"},
		{"gif89", pad("GIF89a"), "a.gif", "image/gif"},
		{"webp", pad("RIFF\x24\x00\x00\x00WEBPVP8 "), "a.webp", "image/webp"},
		{"riff wave is not webp", pad("RIFF\x24\x00\x00\x00WAVEfmt "), "a.webp", "audio/wave"},
		{"html named mp4", []byte("<!DOCTYPE html><script>alert(1)</script>"), "a.mp4", "text/html; charset=utf-8"},
		{"text", []byte("Xin chào các đồng chí"), "a.txt", "text/plain; charset=utf-8"},
		{"empty", nil, "a.mp4", "text/plain; charset=utf-8"},
		{"zip named pptx", pad("PK\x03\x04"), "Bài giảng.PPTX", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		{"zip named docx", pad("PK\x03\x04"), "a.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"zip named zip", pad("PK\x03\x04"), "a.zip", "application/zip"},
		{"exe named pdf", pad("MZ\x90\x00"), "a.pdf", "application/octet-stream"},
		{"pdf after 512 bytes is not seen", append(make([]byte, 600), "%PDF-"...), "a.pdf", "application/octet-stream"},
	} {
		if got := media.Sniff(tc.data, tc.filename); got != tc.want {
			t.Errorf("%s: Sniff = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestAllowedLectureTypes(t *testing.T) {
	want := []string{"video/mp4", "video/webm", "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"}
	got := media.AllowedLectureTypes()
	if !slices.Equal(got, want) {
		t.Fatalf("AllowedLectureTypes = %v", got)
	}
	got[0] = "text/html" // a copy: callers cannot widen the list
	if media.AllowedLectureTypes()[0] != "video/mp4" {
		t.Fatal("AllowedLectureTypes returned shared state")
	}
	for _, tc := range []struct {
		ct   string
		want bool
	}{
		{"video/mp4", true},
		{"Video/MP4", true},
		{"application/pdf; name=x", true},
		{"image/webp", true},
		{"text/html; charset=utf-8", false},
		{"image/svg+xml", false},
		{"video/quicktime", false},
		{"application/octet-stream", false},
		{"", false},
		{"video/mp4;;", false},
	} {
		if got := media.IsAllowedLectureType(tc.ct); got != tc.want {
			t.Errorf("IsAllowedLectureType(%q) = %v, want %v", tc.ct, got, tc.want)
		}
	}
}

func TestValidateKey(t *testing.T) {
	for _, key := range []string{"a", "lectures/64b0c0ffee/video.mp4", "a/b.c/d", "bài giảng/1.pdf", "a..b", "x/y...", strings.Repeat("k", media.MaxKeyLength)} {
		if err := media.ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", key, err)
		}
	}
	for _, key := range []string{"", "/a", "a/", "a//b", "..", "../a", "a/../b", "a/..", ".", "./a", ".hidden", "a/.meta", `a\b`, "a\x00b", "a\tb", "a\x7f", "a\u0085b", "bad\xff", strings.Repeat("k", media.MaxKeyLength+1)} {
		if err := media.ValidateKey(key); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalid", key, err)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inline bool
		want   string
	}{
		{"", false, "attachment"},
		{"", true, "inline"},
		{"report.pdf", false, `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`},
		{"Bài 1.mp4", true, `inline; filename="B_i 1.mp4"; filename*=UTF-8''B%C3%A0i%201.mp4`},
		{`a "quoted" \ name.pdf`, false, `attachment; filename="a _quoted_ _ name.pdf"; filename*=UTF-8''a%20%22quoted%22%20%5C%20name.pdf`},
	} {
		if got := media.ContentDisposition(tc.name, tc.inline); got != tc.want {
			t.Errorf("ContentDisposition(%q, %v) = %s, want %s", tc.name, tc.inline, got, tc.want)
		}
	}
	// A standard parser reads the exact name back from filename*.
	for _, name := range []string{"Bài giảng số 1 (bản cuối).mp4", `a "b" \ c;d.pdf`, "100% đạt.pdf"} {
		disp, params, err := mime.ParseMediaType(media.ContentDisposition(name, false))
		if err != nil || disp != "attachment" || params["filename"] != name {
			t.Errorf("ParseMediaType(ContentDisposition(%q)) = %q, %q, %v", name, disp, params["filename"], err)
		}
	}
}
