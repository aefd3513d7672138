package courses

import (
	"errors"
	"slices"
	"testing"
	"time"

	"hoctap/internal/errs"
)

func TestMergeRanges(t *testing.T) {
	tests := []struct {
		name string
		in   [][2]float64
		want [][2]float64
	}{
		{"empty", nil, [][2]float64{}},
		{"one", [][2]float64{{0, 10}}, [][2]float64{{0, 10}}},
		{"overlapping", [][2]float64{{0, 10}, {5, 20}}, [][2]float64{{0, 20}}},
		{"touching", [][2]float64{{0, 10}, {10, 20}}, [][2]float64{{0, 20}}},
		{"out of order", [][2]float64{{30, 40}, {0, 10}, {5, 12}}, [][2]float64{{0, 12}, {30, 40}}},
		{"duplicates", [][2]float64{{0, 15}, {0, 15}, {0, 15}}, [][2]float64{{0, 15}}},
		{"contained", [][2]float64{{0, 100}, {20, 30}}, [][2]float64{{0, 100}}},
		{"empty ranges dropped", [][2]float64{{5, 5}, {7, 9}}, [][2]float64{{7, 9}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MergeRanges(nil, tt.in...)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("MergeRanges(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestMergeRangesDoesNotModifyInput(t *testing.T) {
	a := [][2]float64{{0, 10}, {20, 30}}
	_ = MergeRanges(a, [2]float64{5, 25})
	if !slices.Equal(a, [][2]float64{{0, 10}, {20, 30}}) {
		t.Fatalf("input changed: %v", a)
	}
}

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// play applies heartbeats sent at the given offsets from t0 and returns the final state
// and the first error.
func play(l Lesson, beats []timedBeat) (LessonState, error) {
	var st LessonState
	for _, b := range beats {
		next, err := ApplyHeartbeat(l, st, b.hb, t0.Add(b.at))
		if err != nil {
			return st, err
		}
		st = next
	}
	return st, nil
}

type timedBeat struct {
	at time.Duration
	hb Heartbeat
}

func watched(r ...[2]float64) Heartbeat { return Heartbeat{Watched: r} }

func TestVideoCompletion(t *testing.T) {
	video := Lesson{ID: "v", Kind: KindVideo, MediaID: "m", DurationS: 600}
	open := timedBeat{0, Heartbeat{}}
	tests := []struct {
		name     string
		beats    []timedBeat
		percent  int
		complete bool
	}{
		{"opened only", []timedBeat{open}, 0, false},
		{"watched straight through", []timedBeat{open, {10 * time.Minute, watched([2]float64{0, 600})}}, 100, true},
		{"exactly 90%", []timedBeat{open, {10 * time.Minute, watched([2]float64{0, 540})}}, 90, true},
		{"just under 90%", []timedBeat{open, {10 * time.Minute, watched([2]float64{0, 539})}}, 89, false},
		{"overlapping heartbeats", []timedBeat{open,
			{3 * time.Minute, watched([2]float64{0, 200})},
			{6 * time.Minute, watched([2]float64{150, 400})},
			{10 * time.Minute, watched([2]float64{350, 560})}}, 93, true},
		{"out of order", []timedBeat{open,
			{10 * time.Minute, watched([2]float64{300, 600})},
			{10 * time.Minute, watched([2]float64{0, 300})}}, 100, true},
		{"duplicate heartbeats count once", []timedBeat{open,
			{5 * time.Minute, watched([2]float64{0, 300})},
			{6 * time.Minute, watched([2]float64{0, 300})},
			{7 * time.Minute, watched([2]float64{0, 300})},
			{8 * time.Minute, watched([2]float64{0, 300})}}, 50, false},
		{"rewatching counts once", []timedBeat{open,
			{20 * time.Minute, watched([2]float64{0, 100}, [2]float64{0, 100}, [2]float64{50, 100})}}, 16, false},
		{"skipping to the end does not count", []timedBeat{open,
			{time.Minute, watched([2]float64{0, 30})},
			{2 * time.Minute, Heartbeat{PositionS: 590, Watched: [][2]float64{{590, 600}}}}}, 6, false},
		{"position alone is not watching", []timedBeat{open, {10 * time.Minute, Heartbeat{PositionS: 600}}}, 0, false},
		{"gaps are not watched", []timedBeat{open,
			{10 * time.Minute, watched([2]float64{0, 100}, [2]float64{200, 300}, [2]float64{400, 500})}}, 50, false},
		{"fractional end past the stored duration is clamped", []timedBeat{open,
			{10 * time.Minute, watched([2]float64{0, 600.4})}}, 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := play(video, tt.beats)
			if err != nil {
				t.Fatal(err)
			}
			if got := LessonPercent(video, st); got != tt.percent {
				t.Errorf("percent = %d, want %d (watched %v)", got, tt.percent, st.Watched)
			}
			if st.Completed != tt.complete {
				t.Errorf("completed = %v, want %v", st.Completed, tt.complete)
			}
			if st.Completed && (st.CompletedAt == nil || st.CompletedAt.Before(t0)) {
				t.Errorf("completed_at = %v", st.CompletedAt)
			}
		})
	}
}

func TestCompletionIsSticky(t *testing.T) {
	video := Lesson{ID: "v", Kind: KindVideo, MediaID: "m", DurationS: 100}
	st, err := play(video, []timedBeat{{0, Heartbeat{}}, {2 * time.Minute, watched([2]float64{0, 100})}})
	if err != nil || !st.Completed {
		t.Fatalf("not completed: %v %v", st, err)
	}
	at := *st.CompletedAt
	// The lesson gets longer in a later revision: what was acknowledged stays.
	longer := video
	longer.DurationS = 1000
	next, err := ApplyHeartbeat(longer, st, watched([2]float64{100, 110}), t0.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !next.Completed || !next.CompletedAt.Equal(at) {
		t.Fatalf("completion lost or moved: %+v", next)
	}
}

func TestBadHeartbeatsAreRefused(t *testing.T) {
	video := Lesson{ID: "v", Kind: KindVideo, MediaID: "m", DurationS: 3600}
	pdf := Lesson{ID: "p", Kind: KindPDF, MediaID: "m", Pages: 10}
	text := Lesson{ID: "t", Kind: KindText, Body: "x"}
	// A state after 5 minutes of watching, opened at t0.
	base, err := play(video, []timedBeat{{0, Heartbeat{}}, {5 * time.Minute, watched([2]float64{0, 300})}})
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(5 * time.Minute)
	nan := 0.0
	nan = nan / nan
	tests := []struct {
		name   string
		lesson Lesson
		hb     Heartbeat
		field  string
	}{
		{"negative range", video, watched([2]float64{-5, 10}), "watched[0]"},
		{"from after to", video, watched([2]float64{50, 40}), "watched[0]"},
		{"beyond duration", video, watched([2]float64{3500, 3700}), "watched[0]"},
		{"not a number", video, watched([2]float64{nan, 10}), "watched[0]"},
		{"negative position", video, Heartbeat{PositionS: -1}, "position_s"},
		{"position past the end", video, Heartbeat{PositionS: 3602}, "position_s"},
		{"pages on a video", video, Heartbeat{PagesViewed: []int{1}}, "pages_viewed"},
		{"in the future", video, watched([2]float64{300, 1000}), "watched"},
		{"page zero", pdf, Heartbeat{PagesViewed: []int{0}}, "pages_viewed[0]"},
		{"page beyond count", pdf, Heartbeat{PagesViewed: []int{1, 11}}, "pages_viewed[1]"},
		{"ranges on a pdf", pdf, watched([2]float64{0, 1}), "watched"},
		{"ranges on text", text, watched([2]float64{0, 1}), "watched"},
		{"too many ranges", video, Heartbeat{Watched: make([][2]float64, maxRangesPerHeartbeat+1)}, "watched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := base
			if tt.lesson.Kind != KindVideo {
				st = LessonState{}
			}
			before := st
			got, err := ApplyHeartbeat(tt.lesson, st, tt.hb, at)
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("err = %v, want invalid", err)
			}
			var fe *errs.FieldError
			if !errors.As(err, &fe) || fe.Fields[tt.field] == "" {
				t.Fatalf("err = %v, want a reason for %s", err, tt.field)
			}
			if !slices.Equal(got.Watched, before.Watched) || !slices.Equal(got.Pages, before.Pages) || got.Completed != before.Completed || got.LastAt != before.LastAt {
				t.Fatalf("state changed: %+v", got)
			}
		})
	}
}

func TestWatchAllowanceGrowsWithTime(t *testing.T) {
	video := Lesson{ID: "v", Kind: KindVideo, MediaID: "m", DurationS: 3600}
	st, _ := ApplyHeartbeat(video, LessonState{}, Heartbeat{}, t0)
	// The first heartbeat may already carry WatchSlack worth of video.
	if _, err := ApplyHeartbeat(video, st, watched([2]float64{0, WatchSlack.Seconds()}), t0); err != nil {
		t.Fatalf("slack refused: %v", err)
	}
	// At double speed, ten minutes of wall clock allow twenty minutes of video (plus slack).
	if _, err := ApplyHeartbeat(video, st, watched([2]float64{0, 1200 + WatchSlack.Seconds()}), t0.Add(10*time.Minute)); err != nil {
		t.Fatalf("double speed refused: %v", err)
	}
	if _, err := ApplyHeartbeat(video, st, watched([2]float64{0, 1200 + WatchSlack.Seconds() + 5}), t0.Add(10*time.Minute)); err == nil {
		t.Fatal("more than double speed accepted")
	}
}

func TestPagedAndTextCompletion(t *testing.T) {
	pdf := Lesson{ID: "p", Kind: KindPDF, MediaID: "m", Pages: 4}
	slides := Lesson{ID: "s", Kind: KindSlides, MediaID: "m", Pages: 3}
	text := Lesson{ID: "t", Kind: KindText, Body: "x"}
	tests := []struct {
		name     string
		lesson   Lesson
		beats    []Heartbeat
		percent  int
		complete bool
	}{
		{"pdf opened", pdf, []Heartbeat{{}}, 0, false},
		{"pdf half", pdf, []Heartbeat{{PagesViewed: []int{1, 2}}}, 50, false},
		{"pdf repeated pages count once", pdf, []Heartbeat{{PagesViewed: []int{1, 1, 2}}, {PagesViewed: []int{2, 1}}}, 50, false},
		{"pdf every page, in any order", pdf, []Heartbeat{{PagesViewed: []int{4, 2}}, {PagesViewed: []int{3, 1}}}, 100, true},
		{"slides last page only", slides, []Heartbeat{{PagesViewed: []int{3}}}, 33, false},
		{"slides all", slides, []Heartbeat{{PagesViewed: []int{1, 2, 3}}}, 100, true},
		{"text opened", text, []Heartbeat{{}}, 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st LessonState
			for i, hb := range tt.beats {
				var err error
				if st, err = ApplyHeartbeat(tt.lesson, st, hb, t0.Add(time.Duration(i)*time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
			if got := LessonPercent(tt.lesson, st); got != tt.percent || st.Completed != tt.complete {
				t.Fatalf("percent %d completed %v, want %d %v", got, st.Completed, tt.percent, tt.complete)
			}
		})
	}
}

func TestCoursePercent(t *testing.T) {
	tests := []struct {
		done, total int
		passed      bool
		want        int
	}{
		{0, 0, true, 0}, {0, 4, true, 0}, {1, 3, true, 33}, {3, 3, true, 100}, {3, 3, false, 99}, {2, 3, false, 66},
	}
	for _, tt := range tests {
		if got := CoursePercent(tt.done, tt.total, tt.passed); got != tt.want {
			t.Errorf("CoursePercent(%d, %d, %v) = %d, want %d", tt.done, tt.total, tt.passed, got, tt.want)
		}
	}
}

func TestRankCourses(t *testing.T) {
	mk := func(id, title, desc string) CourseSummary {
		f, l := searchKeys("C"+id, title, CategoryDigitalSkills, desc)
		return CourseSummary{ID: id, Title: title, SearchFold: f, SearchLower: l}
	}
	items := []CourseSummary{
		mk("1", "Ly luan chinh tri (ban khong dau)", ""),
		mk("2", "Kỹ năng số", "Có phần lý luận chính trị"),
		mk("3", "Lý luận chính trị cơ bản", ""),
		mk("4", "Lý luận chính trị nâng cao", ""),
		mk("5", "Tin học văn phòng", "LÝ LUẬN CHÍNH TRỊ trong chuyển đổi số"),
	}
	RankCourses("Lý luận chính trị", items)
	var got []string
	for _, c := range items {
		got = append(got, c.ID)
	}
	// Exact accents in the title first (by title), then exact accents elsewhere, then the
	// unaccented title.
	want := []string{"3", "4", "2", "5", "1"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	RankCourses("ly luan chinh tri", items)
	got = got[:0]
	for _, c := range items {
		got = append(got, c.ID)
	}
	// Typed without accents: the unaccented title is now the exact match.
	if got[0] != "1" {
		t.Fatalf("order %v, want 1 first", got)
	}
}

func TestCategories(t *testing.T) {
	if len(Categories) != 6 {
		t.Fatalf("%d categories", len(Categories))
	}
	for _, c := range Categories {
		if !c.Slug.Valid() || c.Slug.Label("vi") != c.LabelVI || c.Slug.Label("en") != c.LabelEN {
			t.Errorf("bad category %+v", c)
		}
	}
	if Category("khac").Valid() {
		t.Error("unknown category valid")
	}
}
