package courses

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"hoctap/accounts"
)

// benchClass returns an env with a published course and a class of n learners (unit
// "dept2", which holds nobody else but e.outsider).
func benchClass(b *testing.B, n int) (*env, course, Class, []accounts.Principal) {
	b.Helper()
	e := newEnv(b)
	c := e.publishedCourse("BENCH")
	cl := e.class(c, 0)
	people := e.unitOf("dept2", n)
	r, err := e.svc.EnrolUnit(e.ctx, e.trainer, cl.ID, "dept2", false)
	e.must(err)
	if r.Enrolled != n+1 {
		b.Fatalf("enrolled %+v", r)
	}
	e.must(e.db.IndexIDLookups(e.ctx)) // as the server does at start-up
	return e, c, cl, people
}

// BenchmarkHeartbeat measures accepted heartbeats per second: 1,000 learners watching the
// same video, sent from parallel goroutines, with the flusher writing every second as in
// production. Each heartbeat adds 15 s of video short of completion (the in-memory path).
func BenchmarkHeartbeat(b *testing.B) {
	const learners = 1000
	e, c, _, people := benchClass(b, learners)
	for _, p := range people {
		e.beat(p, c.video, Heartbeat{})
	}
	e.must(e.svc.Flush(e.ctx))
	e.clk.Advance(time.Hour)
	// The production flusher: every second, write what is due.
	stop, flushed := make(chan struct{}), make(chan error, 1)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				flushed <- nil
				return
			case <-t.C:
				if err := e.svc.flush(e.ctx, false); err != nil {
					flushed <- err
					return
				}
			}
		}
	}()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			p := people[i%learners]
			from := float64((i / learners * 15) % 480)
			if _, err := e.svc.RecordProgress(e.ctx, p, c.video.ID, Heartbeat{PositionS: from + 15, Watched: [][2]float64{{from, from + 15}}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "heartbeats/s")
	close(stop)
	e.must(<-flushed)
	e.must(e.svc.Flush(e.ctx))
}

// BenchmarkFlush measures writing one second of heartbeats from 10,000 learners (about
// 700 changed lesson states) in one bulk write: it must stay well under a second.
func BenchmarkFlush(b *testing.B) {
	const dirty = 700
	e, c, _, people := benchClass(b, dirty)
	for _, p := range people {
		e.beat(p, c.video, Heartbeat{})
	}
	e.clk.Advance(time.Hour)
	// The first write of each state also records the learner's activity on the
	// enrolment (at most every 15 minutes): done here, outside the measured loop.
	for _, p := range people {
		e.beat(p, c.video, Heartbeat{Watched: [][2]float64{{0, 5}}})
	}
	e.must(e.svc.Flush(e.ctx))
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		from := float64((i * 15) % 480)
		for _, p := range people {
			e.beat(p, c.video, Heartbeat{Watched: [][2]float64{{from, from + 15}}})
		}
		b.StartTimer()
		e.must(e.svc.Flush(e.ctx))
	}
	b.ReportMetric(float64(dirty*b.N)/b.Elapsed().Seconds(), "states/s")
}

// BenchmarkCompletingHeartbeat measures the synchronous path: a heartbeat that completes
// a lesson is written, and the enrolment summary updated, before it is answered.
func BenchmarkCompletingHeartbeat(b *testing.B) {
	e, c, _, people := benchClass(b, b.N)
	b.ResetTimer()
	for i := range b.N {
		if r := e.beat(people[i], c.text, Heartbeat{}); !r.Completed {
			b.Fatal("not completed")
		}
	}
}

// BenchmarkListClassEnrolments lists a class of 2,000 learners, a page at a time.
func BenchmarkListClassEnrolments(b *testing.B) {
	e, _, cl, _ := benchClass(b, 2000)
	for _, limit := range []int{50, 500} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			for i := range b.N {
				page, err := e.svc.ListClassEnrolments(e.ctx, e.trainer, cl.ID, EnrolmentFilter{Limit: limit, Offset: (i * limit) % 2000})
				e.must(err)
				if page.Total != 2001 || len(page.Items) == 0 {
					b.Fatalf("page %d of %d", len(page.Items), page.Total)
				}
			}
		})
	}
}

// BenchmarkEnrolUnit enrols a unit of 2,000 learners in a new class.
func BenchmarkEnrolUnit(b *testing.B) {
	e := newEnv(b)
	c := e.publishedCourse("BENCH")
	e.unitOf("dept2", 2000)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		cl := e.class(c, 0)
		b.StartTimer()
		r, err := e.svc.EnrolUnit(e.ctx, e.trainer, cl.ID, "dept2", false)
		e.must(err)
		if r.Enrolled != 2001 {
			b.Fatalf("%+v", r)
		}
	}
}
