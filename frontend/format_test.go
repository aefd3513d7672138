package frontend

import (
	"math"
	"testing"
	"time"
)

func TestFormatDate(t *testing.T) {
	tests := []struct {
		in             time.Time
		date, dateTime string
	}{
		{time.Date(2025, 12, 31, 16, 59, 0, 0, time.UTC), "31/12/2025", "31/12/2025 23:59"},
		{time.Date(2025, 12, 31, 17, 0, 0, 0, time.UTC), "01/01/2026", "01/01/2026 00:00"}, // UTC+7 crosses midnight
		{time.Date(2026, 3, 5, 1, 2, 0, 0, time.UTC), "05/03/2026", "05/03/2026 08:02"},
		{time.Date(2026, 3, 5, 8, 2, 0, 0, time.FixedZone("x", 7*3600)), "05/03/2026", "05/03/2026 08:02"},
		{time.Time{}, "", ""},
	}
	for _, tc := range tests {
		if got := FormatDate(tc.in); got != tc.date {
			t.Errorf("FormatDate(%v) = %q, want %q", tc.in, got, tc.date)
		}
		if got := FormatDateTime(tc.in); got != tc.dateTime {
			t.Errorf("FormatDateTime(%v) = %q, want %q", tc.in, got, tc.dateTime)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		x        float64
		decimals int
		vi, en   string
	}{
		{1234.5, 1, "1.234,5", "1,234.5"},
		{0, 0, "0", "0"},
		{999, 0, "999", "999"},
		{1000, 0, "1.000", "1,000"},
		{4686, 0, "4.686", "4,686"},
		{1234567.891, 2, "1.234.567,89", "1,234,567.89"},
		{-1234.5, 1, "-1.234,5", "-1,234.5"},
		{-0.01, 1, "0,0", "0.0"},
		{82.46, 1, "82,5", "82.5"},
		{12, -1, "12", "12"},
		{math.NaN(), 1, "–", "–"},
		{math.Inf(1), 1, "–", "–"},
	}
	for _, tc := range tests {
		if got := FormatNumber(tc.x, tc.decimals, "vi"); got != tc.vi {
			t.Errorf("FormatNumber(%v, %d, vi) = %q, want %q", tc.x, tc.decimals, got, tc.vi)
		}
		if got := FormatNumber(tc.x, tc.decimals, "en"); got != tc.en {
			t.Errorf("FormatNumber(%v, %d, en) = %q, want %q", tc.x, tc.decimals, got, tc.en)
		}
	}
}

func TestFormatPercent(t *testing.T) {
	tests := []struct {
		x      float64
		vi, en string
	}{
		{82.5, "82,5%", "82.5%"},
		{100, "100%", "100%"},
		{3865.0 / 4686 * 100, "82,5%", "82.5%"},
		{99.96, "100%", "100%"},
		{0, "0%", "0%"},
		{math.NaN(), "–", "–"},
	}
	for _, tc := range tests {
		if got := FormatPercent(tc.x, "vi"); got != tc.vi {
			t.Errorf("FormatPercent(%v, vi) = %q, want %q", tc.x, got, tc.vi)
		}
		if got := FormatPercent(tc.x, "en"); got != tc.en {
			t.Errorf("FormatPercent(%v, en) = %q, want %q", tc.x, got, tc.en)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := map[int]string{0: "0:00", 5: "0:05", 65: "1:05", 3600: "1:00:00", 3725: "1:02:05", -3: "0:00"}
	for in, want := range tests {
		if got := FormatDuration(in); got != want {
			t.Errorf("FormatDuration(%d) = %q, want %q", in, got, want)
		}
	}
}
