package live

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/errs"
)

// attendanceDoc is one connection's stay in a room, paired from its records: joined
// when the room accepted it, left when it closed (nil while it is open, or if the
// process died first).
type attendanceDoc struct {
	ID        string // the connection id
	Node      string // the hub that held it
	SessionID string
	UserID    string
	FullName  string
	Role      string
	JoinedAt  time.Time
	LeftAt    *time.Time
}

// Attendance record kinds.
const (
	attJoin  = "join"
	attLeave = "leave"
)

// attendanceRecord is one join or one leave of one connection, as stored in
// live_attendance. Records are only ever inserted, in batches (insertMany, idempotent by
// _id), never updated: a batched insert costs a fraction of ten thousand single updates
// at the end of a provincial session, and on FerretDB an update by anything but _id alone
// scans the whole collection.
type attendanceRecord struct {
	ID        string    `bson:"_id"` // connection id + "/" + kind
	ConnID    string    `bson:"conn_id"`
	SessionID string    `bson:"session_id"`
	UserID    string    `bson:"user_id"`
	FullName  string    `bson:"full_name"`
	Role      string    `bson:"role"`
	Kind      string    `bson:"kind"`
	At        time.Time `bson:"at"`
	Node      string    `bson:"node,omitempty"` // the hub (process) that held the connection
}

// nodeDoc says when a hub last showed it was alive; live_nodes holds one per process.
type nodeDoc struct {
	ID       string    `bson:"_id"`
	LastSeen time.Time `bson:"last_seen"`
}

// Hubs write their heartbeat every nodeBeatEvery; a hub silent for nodeDeadAfter has
// died, and its connections that never recorded a leave ended at its last heartbeat.
const (
	nodeBeatEvery = 15 * time.Second
	nodeDeadAfter = time.Minute
)

// pairRecords turns join and leave records into one attendanceDoc per connection. A leave
// without its join (the join's write was lost) is ignored.
func pairRecords(recs []attendanceRecord) []attendanceDoc {
	byConn := map[string]*attendanceDoc{}
	var order []string
	for _, r := range recs {
		if r.Kind != attJoin {
			continue
		}
		if _, ok := byConn[r.ConnID]; !ok {
			order = append(order, r.ConnID)
		}
		byConn[r.ConnID] = &attendanceDoc{ID: r.ConnID, Node: r.Node, SessionID: r.SessionID, UserID: r.UserID, FullName: r.FullName,
			Role: r.Role, JoinedAt: r.At.UTC()}
	}
	for _, r := range recs {
		if d := byConn[r.ConnID]; r.Kind == attLeave && d != nil {
			at := r.At.UTC()
			d.LeftAt = &at
		}
	}
	out := make([]attendanceDoc, 0, len(order))
	for _, id := range order {
		out = append(out, *byConn[id])
	}
	return out
}

// Interval is a span of presence. An open interval (End zero) lasts until the report's
// cut-off time.
type Interval struct {
	Start, End time.Time
}

// PresentDuration returns how long at least one interval was open, up to cutoff: time on
// two devices at once counts once. Intervals may be unsorted and overlapping; an open one
// (End zero) ends at cutoff; parts after cutoff and empty or inverted intervals count
// nothing.
func PresentDuration(intervals []Interval, cutoff time.Time) time.Duration {
	iv := make([]Interval, 0, len(intervals))
	for _, in := range intervals {
		if in.End.IsZero() || in.End.After(cutoff) {
			in.End = cutoff
		}
		if in.End.After(in.Start) {
			iv = append(iv, in)
		}
	}
	slices.SortFunc(iv, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	var total time.Duration
	var cur Interval
	for i, in := range iv {
		switch {
		case i == 0:
			cur = in
		case !in.Start.After(cur.End):
			if in.End.After(cur.End) {
				cur.End = in.End
			}
		default:
			total += cur.End.Sub(cur.Start)
			cur = in
		}
	}
	if len(iv) > 0 {
		total += cur.End.Sub(cur.Start)
	}
	return total
}

// AttendanceRow is one learner's attendance of a session.
type AttendanceRow struct {
	UserID   string    `json:"user_id"`
	FullName string    `json:"full_name"`
	JoinedAt time.Time `json:"joined_at"` // first join
	// LeftAt is the last leave; nil while the learner is still connected.
	LeftAt         *time.Time `json:"left_at"`
	MinutesPresent float64    `json:"minutes_present"` // union of connections, one decimal
	Connections    int        `json:"connections"`
}

// buildAttendance turns connections into one row per learner (trainers are left
// out), sorted by full name then id. Connections still open count until cutoff (the
// session's end, or now while it runs); a learner with an open connection has no LeftAt.
func buildAttendance(docs []attendanceDoc, cutoff time.Time) []AttendanceRow {
	type acc struct {
		row  AttendanceRow
		ivs  []Interval
		open bool
	}
	by := map[string]*acc{}
	for _, d := range docs {
		if d.Role != RoleLearner {
			continue
		}
		a := by[d.UserID]
		if a == nil {
			a = &acc{row: AttendanceRow{UserID: d.UserID, FullName: d.FullName, JoinedAt: d.JoinedAt.UTC()}}
			by[d.UserID] = a
		}
		a.row.Connections++
		if d.JoinedAt.Before(a.row.JoinedAt) {
			a.row.JoinedAt = d.JoinedAt.UTC()
		}
		iv := Interval{Start: d.JoinedAt}
		if d.LeftAt == nil {
			a.open = true
		} else {
			iv.End = d.LeftAt.UTC()
			if a.row.LeftAt == nil || iv.End.After(*a.row.LeftAt) {
				t := iv.End
				a.row.LeftAt = &t
			}
		}
		a.ivs = append(a.ivs, iv)
	}
	rows := make([]AttendanceRow, 0, len(by))
	for _, a := range by {
		if a.open {
			a.row.LeftAt = nil
		}
		a.row.MinutesPresent = math.Round(PresentDuration(a.ivs, cutoff).Minutes()*10) / 10
		rows = append(rows, a.row)
	}
	slices.SortFunc(rows, func(x, y AttendanceRow) int {
		if c := strings.Compare(x.FullName, y.FullName); c != 0 {
			return c
		}
		return strings.Compare(x.UserID, y.UserID)
	})
	return rows
}

// Attendance returns the per-learner attendance of a session to a trainer of its class,
// an admin or a unit admin; others get errs.ErrForbidden, an unknown session
// errs.ErrNotFound. Connections the hub has not written yet (it writes every second) are
// not in it.
func (s *Service) Attendance(ctx context.Context, a Actor, sessionID string) ([]AttendanceRow, error) {
	sess, err := s.findSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	if !a.UnitAdmin {
		role, err := s.classRole(ctx, a, sess.ClassID)
		if err != nil {
			return nil, err
		}
		if role != RoleTrainer {
			return nil, fmt.Errorf("live: only trainers see attendance: %w", errs.ErrForbidden)
		}
	}
	cur, err := s.attendance.Find(ctx, bson.D{{Key: "session_id", Value: sessionID}})
	if err != nil {
		return nil, fmt.Errorf("live: read attendance: %w", err)
	}
	var recs []attendanceRecord
	if err := cur.All(ctx, &recs); err != nil {
		return nil, fmt.Errorf("live: read attendance: %w", err)
	}
	docs := pairRecords(recs)
	cutoff := s.now().UTC()
	if sess.EndedAt != nil && sess.EndedAt.Before(cutoff) {
		cutoff = sess.EndedAt.UTC()
	}
	if err := s.endDeadConnections(ctx, docs, cutoff); err != nil {
		return nil, err
	}
	return buildAttendance(docs, cutoff), nil
}

// endDeadConnections gives the open connections of hubs that died (no heartbeat for
// nodeDeadAfter before cutoff) their hub's last heartbeat as their leave: a process that
// crashed must not credit its learners with the rest of the session.
func (s *Service) endDeadConnections(ctx context.Context, docs []attendanceDoc, cutoff time.Time) error {
	var nodes []string
	for _, d := range docs {
		if d.LeftAt == nil && d.Node != "" && !slices.Contains(nodes, d.Node) {
			nodes = append(nodes, d.Node)
		}
	}
	if len(nodes) == 0 {
		return nil
	}
	cur, err := s.nodes.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: nodes}}}})
	if err != nil {
		return fmt.Errorf("live: read hub heartbeats: %w", err)
	}
	var beats []nodeDoc
	if err := cur.All(ctx, &beats); err != nil {
		return fmt.Errorf("live: read hub heartbeats: %w", err)
	}
	last := map[string]time.Time{}
	for _, b := range beats {
		last[b.ID] = b.LastSeen.UTC()
	}
	for i := range docs {
		d := &docs[i]
		if seen, ok := last[d.Node]; ok && d.LeftAt == nil && cutoff.Sub(seen) > nodeDeadAfter {
			at := seen
			if at.Before(d.JoinedAt) {
				at = d.JoinedAt
			}
			d.LeftAt = &at
		}
	}
	return nil
}

// WriteAttendanceCSV writes rows as CSV with a header line: user_id, full_name, joined_at,
// left_at (RFC 3339 UTC; empty while connected), minutes_present, connections. Cells that
// a spreadsheet would run as a formula are prefixed with a quote.
func WriteAttendanceCSV(w io.Writer, rows []AttendanceRow) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"user_id", "full_name", "joined_at", "left_at", "minutes_present", "connections"})
	for _, r := range rows {
		left := ""
		if r.LeftAt != nil {
			left = r.LeftAt.UTC().Format(time.RFC3339)
		}
		_ = cw.Write([]string{csvSafe(r.UserID), csvSafe(r.FullName), r.JoinedAt.UTC().Format(time.RFC3339), left,
			strconv.FormatFloat(r.MinutesPresent, 'f', 1, 64), strconv.Itoa(r.Connections)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("live: write attendance CSV: %w", err)
	}
	return nil
}

func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// attendanceRecorder batches join and leave records and inserts them once a second in one
// insertMany; close writes what is left, so a clean shutdown loses no leave.
type attendanceRecorder struct {
	coll  *mongo.Collection
	nodes *mongo.Collection
	node  string
	now   clock.Clock
	log   *slog.Logger

	lastBeat time.Time // owned by loop

	mu      sync.Mutex
	pending []attendanceRecord
	kick    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
}

func newAttendanceRecorder(coll, nodes *mongo.Collection, node string, now clock.Clock, log *slog.Logger, every time.Duration) *attendanceRecorder {
	r := &attendanceRecorder{coll: coll, nodes: nodes, node: node, now: now, log: log, kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go r.loop(every)
	return r
}

// add queues a record; it never blocks on the database.
func (r *attendanceRecorder) add(rec attendanceRecord) {
	rec.ID = rec.ConnID + "/" + rec.Kind
	r.mu.Lock()
	r.pending = append(r.pending, rec)
	r.mu.Unlock()
}

func (r *attendanceRecorder) loop(every time.Duration) {
	defer close(r.stopped)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-r.kick:
		case <-r.stop:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := r.flush(ctx); err != nil {
				r.log.Error("live: attendance not written at shutdown", "err", err)
			}
			r.lastBeat = time.Time{} // a last heartbeat: the hub was alive until now
			if err := r.beat(ctx); err != nil {
				r.log.Warn("live: hub heartbeat not written", "err", err)
			}
			cancel()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := r.flush(ctx); err != nil {
			r.log.Warn("live: attendance write failed, will retry", "err", err)
		}
		if err := r.beat(ctx); err != nil {
			r.log.Warn("live: hub heartbeat not written", "err", err)
		}
		cancel()
	}
}

// beat records, at most every nodeBeatEvery, that this hub is alive.
func (r *attendanceRecorder) beat(ctx context.Context) error {
	now := r.now().UTC().Truncate(time.Millisecond)
	if !r.lastBeat.IsZero() && now.Sub(r.lastBeat) < nodeBeatEvery {
		return nil
	}
	_, err := r.nodes.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.node}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "last_seen", Value: now}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("live: write hub heartbeat: %w", err)
	}
	r.lastBeat = now
	return nil
}

// flush inserts the pending records in one unordered insertMany. Records already stored
// (a retry after a partly failed write) are duplicates by _id and count as written; on
// any other failure the batch is put back for the next attempt.
func (r *attendanceRecorder) flush(ctx context.Context) error {
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	r.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	docs := make([]any, len(batch))
	for i := range batch {
		docs[i] = batch[i]
	}
	_, err := r.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil || onlyDuplicates(err) {
		return nil
	}
	r.mu.Lock()
	r.pending = append(batch, r.pending...)
	r.mu.Unlock()
	return fmt.Errorf("live: write attendance: %w", err)
}

// onlyDuplicates reports whether every write error of a bulk insert is a duplicate key.
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if !database.IsDuplicateKey(we) && we.Code != 11000 {
			return false
		}
	}
	return true
}

// close writes what is pending and stops the recorder.
func (r *attendanceRecorder) close() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.stopped
}
