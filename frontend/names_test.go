package frontend

import (
	"slices"
	"testing"
)

func TestCompareNames(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"Nguyễn Văn An", "Trần Thị Bình", -1},     // given name first: An < Bình
		{"Trần Văn An", "Nguyễn Văn An", 1},        // same given and middle: family decides (Nguyễn < Trần)
		{"Lê Thị An", "Lê Văn An", -1},             // middle decides: Thị < Văn
		{"Phạm Ăn", "Phạm Ân", -1},                 // ă before â
		{"Phạm Ân", "Phạm Bảo", -1},                // â before b
		{"Hồ Dung", "Hồ Đức", -1},                  // d before đ
		{"Hồ Đức", "Hồ Em", -1},                    // đ before e
		{"Vũ Oanh", "Vũ Ông", -1},                  // o before ô
		{"Vũ Ông", "Vũ Ơn", -1},                    // ô before ơ
		{"Vũ Uyên", "Vũ Ưng", -1},                  // u before ư
		{"Lý Ưng", "Lý Vân", -1},                   // ư before v
		{"Mai Ca", "Mai Cà", -1},                   // tone secondary: none < huyền
		{"Mai Cà", "Mai Cả", -1},                   // huyền < hỏi
		{"Mai Cả", "Mai Cã", -1},                   // hỏi < ngã
		{"Mai Cã", "Mai Cá", -1},                   // ngã < sắc
		{"Mai Cá", "Mai Cạ", -1},                   // sắc < nặng
		{"Mai Cạ", "Mai Cab", -1},                  // letters outrank tones
		{"Nguyễn Văn Cừ", "Nguyễn Văn Cừ", 0},      // equal
		{"Nguyễn Văn Cừ", "Nguyễn Văn Cừ", 0}, // NFD equals NFC
		{"nguyễn văn an", "Nguyễn Văn An", -1},     // case last
		{"An", "Nguyễn An", -1},                    // a one-word name has no family
		{"Đỗ Thị Hà", "Đỗ Thị Hà Anh", 1},          // given name Hà vs Anh
		{"Trần Hưng Đạo", "Trần Hưng Dương", 1},    // đ after d even with tones
	}
	for _, tc := range tests {
		if got := CompareNames(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareNames(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := CompareNames(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareNames(%q, %q) = %d, want %d (antisymmetry)", tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestSortByName(t *testing.T) {
	names := []string{
		"Trần Văn Đức", "Nguyễn Thị Ánh", "Lê Văn Dũng", "Phạm Thị Anh", "Hoàng Ân",
		"Nguyễn Văn Ba", "Vũ Thị Ăn", "Bùi Minh Đức",
	}
	SortByName(names, func(s string) string { return s })
	want := []string{
		"Phạm Thị Anh", "Nguyễn Thị Ánh", "Vũ Thị Ăn", "Hoàng Ân", "Nguyễn Văn Ba",
		"Lê Văn Dũng", "Bùi Minh Đức", "Trần Văn Đức",
	}
	if !slices.Equal(names, want) {
		t.Errorf("SortByName =\n%q\nwant\n%q", names, want)
	}
}

func TestCompareText(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"Xã An Bình", "Xã Ân Thi", -1},
		{"Sở Nội vụ", "Sở Tài chính", -1},
		{"Đảng ủy", "Dân vận", 1},
		{"Phòng 2", "Phòng 10", 1}, // character order, not numeric
		{"abc", "abc", 0},
	}
	for _, tc := range tests {
		if got := CompareText(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareText(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
