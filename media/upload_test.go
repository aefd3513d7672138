package media_test

import (
	"errors"
	"testing"

	"hoctap/internal/errs"
	"hoctap/media"
)

func TestPlanParts(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		size      int64
		partSize  int64
		count     int
		wantError error
	}{
		{1, 16 * mib, 1, nil},
		{16 * mib, 16 * mib, 1, nil},
		{16*mib + 1, 16 * mib, 2, nil},
		{100 * mib, 16 * mib, 7, nil},
		{10000 * 16 * mib, 16 * mib, 10000, nil},
		{10000*16*mib + 1, 17 * mib, 9412, nil},
		{media.MaxParts * media.MaxPartSize, media.MaxPartSize, media.MaxParts, nil},
		{0, 0, 0, errs.ErrInvalid},
		{-5, 0, 0, errs.ErrInvalid},
		{media.MaxParts*media.MaxPartSize + 1, 0, 0, errs.ErrTooLarge},
	} {
		ps, n, err := media.PlanParts(tc.size)
		if tc.wantError != nil {
			if !errors.Is(err, tc.wantError) {
				t.Errorf("PlanParts(%d) error = %v, want %v", tc.size, err, tc.wantError)
			}
			continue
		}
		if err != nil || ps != tc.partSize || n != tc.count {
			t.Errorf("PlanParts(%d) = %d, %d, %v; want %d, %d", tc.size, ps, n, err, tc.partSize, tc.count)
		}
		// The plan always fits the S3 rules.
		if err == nil && (n > media.MaxParts || ps < media.MinPartSize || ps > media.MaxPartSize || int64(n-1)*ps >= tc.size || int64(n)*ps < tc.size) {
			t.Errorf("PlanParts(%d) = %d, %d breaks the part rules", tc.size, ps, n)
		}
	}
}

func TestCheckUploaded(t *testing.T) {
	mp4 := []byte("\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41")
	pdf := []byte("%PDF-1.7\n")
	html := []byte("<html><script>alert(1)</script>")
	allowed := media.AllowedLectureTypes()
	for _, tc := range []struct {
		name     string
		info     media.ObjectInfo
		head     []byte
		declared int64
		max      int64
		want     string
		wantErr  error
	}{
		{"video as declared", media.ObjectInfo{Size: 1000, ContentType: "video/mp4"}, mp4, 1000, 2000, "video/mp4", nil},
		{"pdf with parameters", media.ObjectInfo{Size: 9, ContentType: "application/pdf; name=x"}, pdf, 9, 0, "application/pdf", nil},
		{"larger than allowed", media.ObjectInfo{Size: 3000, ContentType: "video/mp4"}, mp4, 3000, 2000, "", errs.ErrTooLarge},
		{"other size than declared", media.ObjectInfo{Size: 999, ContentType: "video/mp4"}, mp4, 1000, 2000, "", errs.ErrInvalid},
		{"pdf declared as video", media.ObjectInfo{Size: 9, ContentType: "video/mp4"}, pdf, 9, 2000, "", errs.ErrInvalid},
		{"html declared as pdf", media.ObjectInfo{Size: 31, ContentType: "application/pdf"}, html, 31, 2000, "", errs.ErrInvalid},
		{"html declared as html", media.ObjectInfo{Size: 31, ContentType: "text/html; charset=utf-8"}, html, 31, 2000, "", errs.ErrInvalid},
		{"empty file", media.ObjectInfo{Size: 0, ContentType: "video/mp4"}, nil, 0, 2000, "", errs.ErrInvalid},
	} {
		got, err := media.CheckUploaded(tc.info, tc.head, "file", tc.declared, tc.max, allowed)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) || got != "" {
				t.Errorf("%s: CheckUploaded = %q, %v; want %v", tc.name, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: CheckUploaded = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}
