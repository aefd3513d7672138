package courses

import (
	"fmt"
	"math"
	"slices"
	"time"

	"hoctap/internal/errs"
)

// The completion rules of API.md and the limits that keep heartbeats honest.
const (
	// VideoCompleteRatio is the share of a video's duration that must have been watched
	// (as the union of watched ranges) for the lesson to be complete.
	VideoCompleteRatio = 0.9
	// MaxPlaybackRate is the fastest playback a player offers; a learner cannot have
	// watched more than this times the wall-clock time since they opened the lesson.
	MaxPlaybackRate = 2.0
	// WatchSlack is added to that allowance for the time before the first heartbeat
	// reached the server and for clock jitter.
	WatchSlack = 30 * time.Second
	// durationSlackS tolerates players that report the end of a video a fraction of a
	// second past its stored (whole-second) duration.
	durationSlackS = 1.0
	// maxRangesPerHeartbeat and maxSegments bound what one learner can make the server
	// store for one lesson.
	maxRangesPerHeartbeat = 1000
	maxSegments           = 2000
	maxPagesPerHeartbeat  = 10000
)

// LessonState is what the server knows of one learner in one lesson. It is built only by
// ApplyHeartbeat, so every field has been checked.
type LessonState struct {
	Watched     [][2]float64 // union of watched ranges: sorted, disjoint
	Pages       []int        // distinct pages viewed, sorted
	PositionS   float64
	Opened      bool
	FirstSeenAt time.Time // when the first heartbeat for the lesson arrived
	LastAt      time.Time
	Completed   bool // sticky: once acknowledged, a completion is never taken back
	CompletedAt *time.Time
}

// MergeRanges returns the union of a and more as sorted, disjoint ranges. Ranges that
// touch or overlap are joined; a is not modified.
func MergeRanges(a [][2]float64, more ...[2]float64) [][2]float64 {
	all := make([][2]float64, 0, len(a)+len(more))
	all = append(all, a...)
	all = append(all, more...)
	slices.SortFunc(all, func(x, y [2]float64) int {
		switch {
		case x[0] < y[0]:
			return -1
		case x[0] > y[0]:
			return 1
		default:
			return 0
		}
	})
	out := make([][2]float64, 0, len(all))
	for _, r := range all {
		if r[1] <= r[0] {
			continue // an empty range adds nothing
		}
		if n := len(out); n > 0 && r[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

// WatchedSeconds returns the total length of disjoint ranges.
func WatchedSeconds(ranges [][2]float64) float64 {
	var s float64
	for _, r := range ranges {
		s += r[1] - r[0]
	}
	return s
}

// LessonPercent returns how much of lesson l the state covers, 0 to 100: watched share of
// a video, viewed share of pages, 100 for an opened text lesson.
func LessonPercent(l Lesson, st LessonState) int {
	var p float64
	switch l.Kind {
	case KindVideo:
		if l.DurationS > 0 {
			p = WatchedSeconds(st.Watched) / float64(l.DurationS)
		}
	case KindPDF, KindSlides:
		if l.Pages > 0 {
			n := 0
			for _, pg := range st.Pages {
				if pg >= 1 && pg <= l.Pages {
					n++
				}
			}
			p = float64(n) / float64(l.Pages)
		}
	case KindText:
		if st.Opened {
			p = 1
		}
	}
	if st.Completed && p < 1 && l.Kind != KindVideo {
		p = 1
	}
	return min(100, int(math.Floor(p*100+1e-9)))
}

// LessonComplete reports whether the state meets lesson l's completion rule: at least 90%
// of a video watched, every page viewed, a text lesson opened. A completion once reached
// stays.
func LessonComplete(l Lesson, st LessonState) bool {
	if st.Completed {
		return true
	}
	switch l.Kind {
	case KindVideo:
		return l.DurationS > 0 && WatchedSeconds(st.Watched)+1e-9 >= VideoCompleteRatio*float64(l.DurationS)
	case KindPDF, KindSlides:
		return l.Pages > 0 && LessonPercent(l, st) >= 100
	case KindText:
		return st.Opened
	}
	return false
}

// CoursePercent returns a course's percent from its lesson counts: the share of lessons
// complete, held at 99 while a required quiz is not yet passed.
func CoursePercent(done, total int, quizzesPassed bool) int {
	if total == 0 {
		return 0
	}
	p := done * 100 / total
	if p >= 100 && !quizzesPassed {
		return 99
	}
	return p
}

// ApplyHeartbeat returns the state after heartbeat hb for lesson l at time now. It checks
// everything first and returns an error wrapping errs.ErrInvalid, with st untouched, for
// a negative or reversed range, a range or position past the video's end, ranges sent
// for a paged or text lesson, pages outside 1..l.Pages, pages for a video, non-finite
// numbers, or more newly watched video than the wall-clock time since the lesson was
// first opened allows (MaxPlaybackRate × elapsed + WatchSlack).
func ApplyHeartbeat(l Lesson, st LessonState, hb Heartbeat, now time.Time) (LessonState, error) {
	var f errs.Fields
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }
	f.Check(bad(hb.PositionS) || hb.PositionS < 0, "position_s", "must be a number of seconds, zero or more")
	f.Check(len(hb.Watched) > maxRangesPerHeartbeat, "watched", fmt.Sprintf("at most %d ranges per heartbeat", maxRangesPerHeartbeat))
	f.Check(len(hb.PagesViewed) > maxPagesPerHeartbeat, "pages_viewed", fmt.Sprintf("at most %d pages per heartbeat", maxPagesPerHeartbeat))
	if err := f.Err(); err != nil {
		return st, err
	}
	switch l.Kind {
	case KindVideo:
		limit := float64(l.DurationS) + durationSlackS
		f.Check(hb.PositionS > limit, "position_s", "is past the end of the video")
		for i, r := range hb.Watched {
			field := fmt.Sprintf("watched[%d]", i)
			switch {
			case bad(r[0]) || bad(r[1]):
				f.Add(field, "must be numbers")
			case r[0] < 0 || r[1] < 0:
				f.Add(field, "must not be negative")
			case r[0] > r[1]:
				f.Add(field, "from must not be after to")
			case r[1] > limit:
				f.Add(field, "is past the end of the video")
			}
		}
		f.Check(len(hb.PagesViewed) > 0, "pages_viewed", "a video lesson has no pages")
	case KindPDF, KindSlides:
		f.Check(len(hb.Watched) > 0, "watched", "only video lessons have watched ranges")
		for i, pg := range hb.PagesViewed {
			f.Check(pg < 1 || pg > l.Pages, fmt.Sprintf("pages_viewed[%d]", i), fmt.Sprintf("must be a page from 1 to %d", l.Pages))
		}
	case KindText:
		f.Check(len(hb.Watched) > 0, "watched", "only video lessons have watched ranges")
		f.Check(len(hb.PagesViewed) > 0, "pages_viewed", "a text lesson has no pages")
	}
	if err := f.Err(); err != nil {
		return st, err
	}

	next := st
	next.Opened = true
	next.LastAt = now
	if next.FirstSeenAt.IsZero() {
		next.FirstSeenAt = now
	}
	if l.Kind == KindVideo {
		next.PositionS = min(hb.PositionS, float64(l.DurationS))
		clamped := make([][2]float64, len(hb.Watched))
		for i, r := range hb.Watched {
			clamped[i] = [2]float64{min(r[0], float64(l.DurationS)), min(r[1], float64(l.DurationS))}
		}
		next.Watched = MergeRanges(st.Watched, clamped...)
		if len(next.Watched) > maxSegments {
			return st, errs.Field("watched", "too many separate ranges; send merged ranges")
		}
		before, after := WatchedSeconds(st.Watched), WatchedSeconds(next.Watched)
		elapsed := now.Sub(next.FirstSeenAt)
		allowed := MaxPlaybackRate*elapsed.Seconds() + WatchSlack.Seconds()
		if after > before+1e-9 && after > allowed {
			return st, errs.Field("watched", fmt.Sprintf("%.0f s watched is more than the %.0f s since the lesson was opened allow", after, elapsed.Seconds()))
		}
	} else {
		next.PositionS = hb.PositionS
		if len(hb.PagesViewed) > 0 {
			pages := slices.Concat(st.Pages, hb.PagesViewed)
			slices.Sort(pages)
			next.Pages = slices.Compact(pages)
		}
	}
	if !next.Completed && LessonComplete(l, next) {
		next.Completed = true
		at := now
		next.CompletedAt = &at
	}
	return next, nil
}
