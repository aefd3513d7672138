package courses

import "testing"

func TestMediaFitsKind(t *testing.T) {
	tests := []struct {
		kind Kind
		ct   string
		want bool
	}{
		{KindVideo, "video/mp4", true},
		{KindVideo, "video/webm", true},
		{KindVideo, "application/pdf", false},
		{KindPDF, "application/pdf", true},
		{KindPDF, "video/mp4", false},
		{KindSlides, "application/pdf", true},
		{KindSlides, "image/png", false},
		{KindText, "image/png", true},
		{KindText, "video/mp4", false},
		{Kind("other"), "video/mp4", false},
	}
	for _, tt := range tests {
		if got := mediaFitsKind(tt.kind, tt.ct); got != tt.want {
			t.Errorf("mediaFitsKind(%s, %s) = %v, want %v", tt.kind, tt.ct, got, tt.want)
		}
	}
}
