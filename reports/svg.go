package reports

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"hoctap/accounts"
	"hoctap/internal/errs"
)

// Charts are drawn on the server as SVG so that a phone shows them without scripts: the
// picture scales to its container (a viewBox and width 100%, no fixed size), every text
// is escaped, and labels sit above their bars so long unit names keep the full width.

// Bar is one row of a progress-bar chart.
type Bar struct {
	Label   string
	Done    int
	Staff   int
	Percent float64 // 0..100
	OnTrack bool
}

// Chart colours: on track, behind, background, target marker, text.
const (
	colourGood   = "#2e7d32"
	colourBad    = "#e65100"
	colourTrack  = "#e0e0e0"
	colourTarget = "#1a237e"
	colourText   = "#212121"
	chartWidth   = 400 // narrow, so 14-unit text stays about 13 px on a 375 px phone
	chartFont    = `font-family="DejaVu Sans, Arial, sans-serif"`
)

// xmlText escapes s for SVG text and attributes and drops characters XML forbids.
func xmlText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&#39;")
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF || r == utf8.RuneError:
			// not allowed in XML 1.0
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ellipsis shortens s to at most n runes.
func ellipsis(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func ftoa(x float64) string { return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64) }

// ProgressBarsSVG draws one horizontal bar per row, filled to its percent (green when on
// track, orange when not), with a vertical marker at the target percent and the figures
// written as Vietnamese readers expect ("82,5% · 3.865/4.686").
func ProgressBarsSVG(title string, bars []Bar, target float64) []byte {
	const top, rowH, barH, left = 40, 46, 16, 8
	barW := float64(chartWidth - 2*left)
	height := top + rowH*max(len(bars), 1) + 8
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMinYMin meet" role="img" aria-label="%s" %s>`,
		chartWidth, height, xmlText(title), chartFont)
	fmt.Fprintf(&b, `<title>%s</title>`, xmlText(title))
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16" font-weight="bold" fill="%s">%s</text>`, left, colourText, xmlText(ellipsis(title, 38)))
	if len(bars) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" fill="%s">Chưa có số liệu</text>`, left, top+20, colourText)
	}
	for i, bar := range bars {
		y := top + i*rowH
		pct := math.Max(0, math.Min(100, bar.Percent))
		fill := colourBad
		if bar.OnTrack {
			fill = colourGood
		}
		fmt.Fprintf(&b, `<g><title>%s: %s</title>`, xmlText(bar.Label), xmlText(FormatPercentVN(bar.Percent)))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" fill="%s">%s</text>`, left, y+14, colourText, xmlText(ellipsis(bar.Label, 28)))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" text-anchor="end" fill="%s">%s · %s/%s</text>`,
			chartWidth-left, y+14, colourText, xmlText(FormatPercentVN(bar.Percent)), FormatIntVN(bar.Done), FormatIntVN(bar.Staff))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%s" height="%d" rx="4" fill="%s"/>`, left, y+20, ftoa(barW), barH, colourTrack)
		if pct > 0 {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%s" height="%d" rx="4" fill="%s"/>`, left, y+20, ftoa(barW*pct/100), barH, fill)
		}
		if target > 0 && target <= 100 {
			x := float64(left) + barW*target/100
			fmt.Fprintf(&b, `<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="%s" stroke-width="2"/>`, ftoa(x), y+17, ftoa(x), y+20+barH+3, colourTarget)
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

// DonutSVG draws done against not done as a ring with the percent in its middle.
func DonutSVG(title string, done, total int) []byte {
	const size, r, stroke = 220, 80, 28
	pct := percentOf(done, total)
	circ := 2 * math.Pi * r
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="%s" %s>`,
		size, size+40, xmlText(title), chartFont)
	fmt.Fprintf(&b, `<title>%s</title>`, xmlText(title))
	c := size / 2
	fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="%d" fill="none" stroke="%s" stroke-width="%d"/>`, c, c, r, colourBad, stroke)
	if total > 0 && done > 0 {
		on := circ * float64(done) / float64(total)
		// Start at 12 o'clock and go clockwise.
		fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="%d" fill="none" stroke="%s" stroke-width="%d" stroke-dasharray="%s %s" transform="rotate(-90 %d %d)"/>`,
			c, c, r, colourGood, stroke, ftoa(on), ftoa(circ), c, c)
	}
	if total == 0 {
		fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="%d" fill="none" stroke="%s" stroke-width="%d"/>`, c, c, r, colourTrack, stroke)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="30" font-weight="bold" text-anchor="middle" fill="%s">%s</text>`, c, c+6, colourText, xmlText(FormatPercentVN(pct)))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" text-anchor="middle" fill="%s">%s/%s</text>`, c, c+28, colourText, FormatIntVN(done), FormatIntVN(total))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" text-anchor="middle" fill="%s">%s</text>`, c, size+24, colourText, xmlText(ellipsis(title, 36)))
	b.WriteString(`</svg>`)
	return b.Bytes()
}

// Chart kinds for TargetChart.
const (
	ChartBars  = "bars"
	ChartDonut = "donut"
)

// TargetChart draws a target's status as SVG: ChartBars has one bar per sub-unit of the
// status root (the root itself when it has none), ChartDonut shows the root's done
// against not done. It returns an error wrapping errs.ErrInvalid for another kind, and
// the errors of TargetStatus.
func (s *Service) TargetChart(ctx context.Context, actor accounts.Principal, id string, q StatusQuery, kind string) ([]byte, error) {
	if kind != ChartBars && kind != ChartDonut {
		return nil, errs.Field("kind", "must be bars or donut")
	}
	st, err := s.TargetStatus(ctx, actor, id, StatusQuery{UnitID: q.UnitID, Depth: 1})
	if err != nil {
		return nil, err
	}
	title := st.Target.Title + " — " + st.Unit.Name
	if kind == ChartDonut {
		return DonutSVG(title, st.Done, st.Staff), nil
	}
	nodes := st.Children
	if len(nodes) == 0 {
		nodes = []*StatusNode{&st.StatusNode}
	}
	bars := make([]Bar, len(nodes))
	for i, n := range nodes {
		bars[i] = Bar{Label: n.Unit.Name, Done: n.Done, Staff: n.Staff, Percent: n.Percent, OnTrack: n.OnTrack}
	}
	return ProgressBarsSVG(title, bars, st.Target.Percent), nil
}
