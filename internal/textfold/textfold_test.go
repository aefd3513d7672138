package textfold

import (
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Nguyễn Văn Cừ", "nguyen van cu"},
		{"NGUYỄN", "nguyen"},
		{"nguyen van cu", "nguyen van cu"},
		{norm.NFD.String("Nguyễn Văn Cừ"), "nguyen van cu"},
		{"Đặng Thị Đào", "dang thi dao"},
		{"  Lý   luận\tchính trị ", "ly luan chinh tri"},
		{"Quốc phòng – an ninh", "quoc phong – an ninh"},
		{"", ""},
		{"ƯỚC", "uoc"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLowerKeepsAccentsAndNormalises(t *testing.T) {
	if got, want := Lower(norm.NFD.String("Lý  Luận")), "lý luận"; got != want || !norm.NFC.IsNormalString(got) {
		t.Errorf("Lower = %q, want %q in NFC", got, want)
	}
}
