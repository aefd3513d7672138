package live

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"hoctap/internal/clock"
	"hoctap/internal/dbtest"
)

// countConn counts the frames written to it and throws them away.
type countConn struct{ total *atomic.Int64 }

func (c countConn) WriteFrame([]byte) error { c.total.Add(1); return nil }
func (countConn) Close(int, string)         {}

// BenchmarkRoomBroadcast measures one chat message from a client's frame to its delivery
// to every connection of a room, store included (embedded FerretDB), without a network.
func BenchmarkRoomBroadcast(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			db := dbtest.New(b)
			members := &fakeMembers{}
			svc := NewService(db.Database, clock.System, members)
			ctx := context.Background()
			if err := svc.EnsureIndexes(ctx); err != nil {
				b.Fatal(err)
			}
			sess, err := svc.CreateSession(ctx, admin, "c", NewSession{Title: "bench", StartsAt: time.Now()})
			if err != nil {
				b.Fatal(err)
			}
			// A long tick: no presence or tally frames mixed into the count.
			hub := NewHub(svc, HubOptions{FrameRate: 1e9, FrameBurst: 1e9, Tick: time.Hour})
			defer hub.Close(ctx)
			var total atomic.Int64
			var sender *Client
			for i := range n {
				a := Actor{ID: fmt.Sprintf("u%d", i), FullName: "Cán bộ"}
				members.set("c", a.ID, RoleLearner)
				c, err := hub.Join(ctx, a, sess.ID, 0, countConn{&total})
				if err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					sender = c
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				want := total.Load() + int64(n)
				send(sender, `{"type":"chat.send","client_id":"m%d","text":"tin nhắn %d"}`, i, i)
				for total.Load() < want {
					runtime.Gosched()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
		})
	}
}
