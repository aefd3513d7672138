package reports

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"
)

// wellFormed parses svg as XML and returns the rect widths and the texts in order.
func wellFormed(t *testing.T, svg []byte) (widths []string, texts []string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var inText bool
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			if x.Name.Local == "rect" {
				for _, a := range x.Attr {
					if a.Name.Local == "width" {
						widths = append(widths, a.Value)
					}
				}
			}
			inText = x.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, string(x))
			}
		case xml.EndElement:
			inText = false
		}
	}
	return widths, texts
}

func TestProgressBarsSVG(t *testing.T) {
	svg := ProgressBarsSVG(`Tỷ lệ <script>alert("x")</script> & co`, []Bar{
		{Label: "Sở Nội vụ", Done: 3865, Staff: 4686, Percent: 82.5, OnTrack: true},
		{Label: "Xã <b>Tân</b> \x01Phú", Done: 0, Staff: 10, Percent: 0},
		{Label: "Phòng đầy đủ", Done: 10, Staff: 10, Percent: 100, OnTrack: true},
	}, 90)
	s := string(svg)
	if !strings.HasPrefix(s, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 `) || !strings.Contains(s, `width="100%"`) {
		t.Fatalf("not a scalable SVG: %.120s", s)
	}
	if regexp.MustCompile(`<svg[^>]*\sheight=`).MatchString(s) || strings.Contains(s, "<script") || strings.Contains(s, "<b>") {
		t.Fatalf("fixed size or unescaped text:\n%s", s)
	}
	widths, texts := wellFormed(t, svg)
	// Backgrounds are 384 wide; fills 82.5% and 100% of that; the empty bar has no fill.
	want := []string{"384", "316.8", "384", "384", "384"}
	if strings.Join(widths, ",") != strings.Join(want, ",") {
		t.Fatalf("bar widths %v, want %v", widths, want)
	}
	joined := strings.Join(texts, "|")
	for _, w := range []string{`Tỷ lệ <script>alert("x")</script> & co`, "Sở Nội vụ", "82,5% · 3.865/4.686", "Xã <b>Tân</b> Phú", "0,0% · 0/10"} {
		if !strings.Contains(joined, w) {
			t.Errorf("texts %q lack %q", joined, w)
		}
	}
	if !strings.Contains(s, `x1="353.6"`) { // the 90% marker: 8 + 384*0.9
		t.Error("no target marker at 90%")
	}
	// No rows still draws a valid picture.
	_, texts = wellFormed(t, ProgressBarsSVG("Trống", nil, 100))
	if !strings.Contains(strings.Join(texts, "|"), "Chưa có số liệu") {
		t.Errorf("empty chart texts %q", texts)
	}
}

func TestDonutSVG(t *testing.T) {
	for _, c := range []struct {
		done, total int
		pct         string
	}{{3865, 4686, "82,5%"}, {0, 0, "0,0%"}, {5, 5, "100,0%"}, {0, 7, "0,0%"}} {
		svg := DonutSVG("Hoàn thành & chưa", c.done, c.total)
		_, texts := wellFormed(t, svg)
		if texts[0] != c.pct || !strings.Contains(string(svg), `width="100%"`) || !strings.Contains(string(svg), "&amp; chưa") {
			t.Errorf("%d/%d: texts %q", c.done, c.total, texts)
		}
	}
}

func TestTargetChart(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	root := w.unit("Tỉnh", nil)
	a := w.unit("Huyện <A>", &root)
	course := w.learn.addCourse("DVC", "Dịch vụ công", "ky_nang_so", "Kỹ năng số")
	class := w.learn.addClass(course.ID, "Lớp", t0)
	w.learn.enrol(class, w.user("An", a, "CV"), 100, t0)
	w.user("Bình", a, "CV")
	tg := must(w.svc.CreateTarget(ctx, w.admin, NewTarget{UnitID: root.ID, Title: "DVC", CourseID: course.ID, Metric: MetricCompleted, Percent: 100, Due: "2025-12-31"}))
	bars := must(w.svc.TargetChart(ctx, w.admin, tg.ID, StatusQuery{}, ChartBars))
	_, texts := wellFormed(t, bars)
	if !strings.Contains(strings.Join(texts, "|"), "Huyện <A>|50,0% · 1/2") {
		t.Fatalf("bars texts %q", texts)
	}
	donut := must(w.svc.TargetChart(ctx, w.admin, tg.ID, StatusQuery{UnitID: a.ID}, ChartDonut))
	if _, texts = wellFormed(t, donut); texts[0] != "50,0%" {
		t.Fatalf("donut texts %q", texts)
	}
	_, err := w.svc.TargetChart(ctx, w.admin, tg.ID, StatusQuery{}, "pie")
	wantCode(t, err, "invalid")
}
