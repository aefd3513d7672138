package frontend

import (
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Ho_Chi_Minh must be known even in a minimal container
)

// vietnam is the zone every page shows times in; times are stored in UTC.
var vietnam = mustZone("Asia/Ho_Chi_Minh")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is linked in, so this cannot happen
	}
	return loc
}

// FormatDate shows t as dd/MM/yyyy in Asia/Ho_Chi_Minh, as Vietnamese documents write
// dates, in both languages. The zero time shows as "".
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(vietnam).Format("02/01/2006")
}

// FormatDateTime shows t as dd/MM/yyyy HH:mm in Asia/Ho_Chi_Minh (24-hour clock). The
// zero time shows as "".
func FormatDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(vietnam).Format("02/01/2006 15:04")
}

// FormatNumber shows x with the given number of decimals, grouping thousands: in
// Vietnamese with "." between groups and "," before the decimals (1.234,5), in English
// the other way round (1,234.5). NaN and infinities show as "–".
func FormatNumber(x float64, decimals int, lang string) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	group, point := ".", ","
	if lang == "en" {
		group, point = ",", "."
	}
	s := strconv.FormatFloat(x, 'f', max(decimals, 0), 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString(point)
		b.WriteString(frac)
	}
	return b.String()
}

// FormatPercent shows a percentage with at most one decimal, dropping a trailing ",0":
// 82.5 → "82,5%", 100 → "100%".
func FormatPercent(x float64, lang string) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	r := math.Round(x*10) / 10
	if r == math.Trunc(r) {
		return FormatNumber(r, 0, lang) + "%"
	}
	return FormatNumber(r, 1, lang) + "%"
}

// FormatDuration shows a number of seconds as h:mm:ss or m:ss, as a player does.
func FormatDuration(seconds int) string {
	if seconds < 0 {
		seconds = 0
	}
	h, m, s := seconds/3600, seconds/60%60, seconds%60
	if h > 0 {
		return strconv.Itoa(h) + ":" + pad2(m) + ":" + pad2(s)
	}
	return strconv.Itoa(m) + ":" + pad2(s)
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
