package reports

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hoctap/accounts"
)

// countingDirectory counts the full reads of the directory (every unit, every active user).
// When hold is set, ListActiveStaff signals read after reading and then waits for release,
// so that a test can change things while a load that has already read is still running.
type countingDirectory struct {
	*AccountsDirectory
	units, staff atomic.Int32
	hold         atomic.Bool
	read         chan struct{}
	release      chan struct{}
}

func (d *countingDirectory) AllUnits(ctx context.Context) ([]accounts.Unit, error) {
	d.units.Add(1)
	return d.AccountsDirectory.AllUnits(ctx)
}

func (d *countingDirectory) ListActiveStaff(ctx context.Context) ([]accounts.User, error) {
	d.staff.Add(1)
	us, err := d.AccountsDirectory.ListActiveStaff(ctx)
	if d.hold.Load() {
		d.read <- struct{}{}
		<-d.release
	}
	return us, err
}

// countingLearning counts the reads of a course's enrolments.
type countingLearning struct {
	*fakeLearning
	reads atomic.Int32
}

func (l *countingLearning) CourseEnrolments(ctx context.Context, courseID string) ([]EnrolmentRecord, error) {
	l.reads.Add(1)
	return l.fakeLearning.CourseEnrolments(ctx, courseID)
}

// countedWorld is a world whose service reads through the counting wrappers.
func countedWorld(t *testing.T) (*world, *countingDirectory, *countingLearning) {
	t.Helper()
	w := newWorld(t)
	dir := &countingDirectory{AccountsDirectory: NewAccountsDirectory(w.acc, w.db.Database),
		read: make(chan struct{}), release: make(chan struct{})}
	learn := &countingLearning{fakeLearning: w.learn}
	svc, err := New(Config{DB: w.db.Database, Clock: w.clock.Now, Directory: dir, Learning: learn, Quizzes: w.quiz, Live: w.live})
	if err != nil {
		t.Fatal(err)
	}
	w.svc = svc
	return w, dir, learn
}

// figures returns staff/done per child unit of a status, and of the root under "".
func figures(st TargetStatus) map[string][2]int {
	out := map[string][2]int{"": {st.Staff, st.Done}}
	for _, c := range st.Children {
		out[c.Unit.ID] = [2]int{c.Staff, c.Done}
	}
	return out
}

// Users moved, deactivated, created and reactivated, and units created and moved, through
// the accounts service and then passed to UserChanged / UnitChanged, show in the next
// status at once, and the directory is never read in full again.
func TestIncrementalDirectoryChanges(t *testing.T) {
	w, dir, _ := countedWorld(t)
	ctx := context.Background()
	root := w.unit("Sở Nội vụ", nil)
	a := w.unit("Phòng A", &root)
	b := w.unit("Phòng B", &root)
	course := w.learn.addCourse("DVC", "Dịch vụ công", "ky_nang_so", "Kỹ năng số")
	class := w.learn.addClass(course.ID, "Lớp", t0)
	ann := w.user("Lê Thị An", a, "Chuyên viên")
	binh := w.user("Trần Bình", a, "Chuyên viên")
	w.user("Phạm Cường", b, "Chuyên viên")
	w.learn.enrol(class, ann, 100, t0)
	w.learn.enrol(class, binh, 100, t0)
	tg := must(w.svc.CreateTarget(ctx, w.admin, NewTarget{UnitID: root.ID, Title: "DVC", CourseID: course.ID,
		Metric: MetricCompleted, Percent: 100, Due: "2025-06-30"}))
	check := func(label string, want map[string][2]int) TargetStatus {
		t.Helper()
		st := must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
		got := figures(st)
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%s: got %v, want %v (keys: \"\" root, %s A, %s B)", label, got, want, a.ID, b.ID)
			}
		}
		return st
	}
	changed := func(id string) {
		t.Helper()
		if err := w.svc.UserChanged(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	start := check("start", map[string][2]int{"": {3, 2}, a.ID: {2, 2}, b.ID: {1, 0}})

	// An moves to B, with her completion.
	must(w.acc.UpdateUser(ctx, w.admin, ann.ID, accounts.UserPatch{UnitID: &b.ID}))
	changed(ann.ID)
	st := check("moved", map[string][2]int{"": {3, 2}, a.ID: {1, 1}, b.ID: {2, 1}})
	if !st.AsOf.Equal(start.AsOf) {
		t.Fatalf("an incremental change reloaded the snapshot: as of %v, was %v", st.AsOf, start.AsOf)
	}
	// Bình is deactivated: counted nowhere.
	off, on := false, true
	must(w.acc.UpdateUser(ctx, w.admin, binh.ID, accounts.UserPatch{Active: &off}))
	changed(binh.ID)
	check("deactivated", map[string][2]int{"": {2, 1}, a.ID: {0, 0}, b.ID: {2, 1}})
	// A new user in A, created through accounts.
	dung := must(w.acc.CreateUser(ctx, w.admin, accounts.NewUser{Username: "dung", Password: "Mật-khẩu-dài-1",
		FullName: "Đỗ Dũng", UnitID: a.ID, Position: "Chuyên viên", Roles: []accounts.Role{accounts.RoleLearner}}))
	changed(dung.ID)
	check("created", map[string][2]int{"": {3, 1}, a.ID: {1, 0}, b.ID: {2, 1}})
	// Bình comes back, with his completion.
	must(w.acc.UpdateUser(ctx, w.admin, binh.ID, accounts.UserPatch{Active: &on}))
	changed(binh.ID)
	check("reactivated", map[string][2]int{"": {4, 2}, a.ID: {2, 1}, b.ID: {2, 1}})
	// A position change takes the user out of a target that counts only some positions.
	tp := must(w.svc.CreateTarget(ctx, w.admin, NewTarget{UnitID: root.ID, Title: "CV", CourseID: course.ID,
		Metric: MetricCompleted, Percent: 100, Due: "2025-06-30", Positions: []string{"chuyen vien"}}))
	pos := "Trưởng phòng"
	must(w.acc.UpdateUser(ctx, w.admin, dung.ID, accounts.UserPatch{Position: &pos}))
	changed(dung.ID)
	if st := must(w.svc.TargetStatus(ctx, w.admin, tp.ID, StatusQuery{})); st.Staff != 3 {
		t.Fatalf("position change: %d counted, want 3", st.Staff)
	}

	// A new unit under A, and Dũng moves into it.
	a1 := must(w.acc.CreateUnit(ctx, w.admin, accounts.NewUnit{Name: "Tổ A1", Code: "A1", ParentID: a.ID}))
	if err := w.svc.UnitChanged(ctx, a1.ID); err != nil {
		t.Fatal(err)
	}
	must(w.acc.UpdateUser(ctx, w.admin, dung.ID, accounts.UserPatch{UnitID: &a1.ID}))
	changed(dung.ID)
	st = must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{UnitID: a1.ID}))
	if st.Staff != 1 || st.Unit.Name != "Tổ A1" {
		t.Fatalf("new unit: %+v", st.StatusNode)
	}
	// A is moved under B, with A1 below it: the whole subtree follows.
	must(w.acc.UpdateUnit(ctx, w.admin, a.ID, accounts.UnitPatch{ParentID: &b.ID}))
	if err := w.svc.UnitChanged(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	st = check("unit moved", map[string][2]int{"": {4, 2}, b.ID: {4, 2}})
	if len(st.Children) != 1 {
		t.Fatalf("unit moved: %d children of the root, want 1 (B)", len(st.Children))
	}
	st = must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{UnitID: b.ID}))
	if len(st.Children) != 1 || st.Children[0].Unit.ID != a.ID || len(st.Children[0].Children) != 1 ||
		st.Children[0].Children[0].Unit.ID != a1.ID || st.Children[0].Children[0].Staff != 1 {
		t.Fatalf("B after the move: %+v", st.StatusNode)
	}
	// A renamed.
	name := "Phòng A (mới)"
	must(w.acc.UpdateUnit(ctx, w.admin, a.ID, accounts.UnitPatch{Name: &name}))
	if err := w.svc.UnitChanged(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	st = must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{UnitID: a.ID}))
	if st.Unit.Name != name {
		t.Fatalf("renamed unit shows as %q", st.Unit.Name)
	}
	// UnitsChanged re-reads the units only.
	if err := w.svc.UnitsChanged(ctx); err != nil {
		t.Fatal(err)
	}
	check("units re-read", map[string][2]int{"": {4, 2}, b.ID: {4, 2}})

	if n, m := dir.units.Load(), dir.staff.Load(); n != 2 || m != 1 {
		t.Fatalf("directory read in full: units %d times (want 2: the load and UnitsChanged), users %d (want 1)", n, m)
	}

	// Bad ids change nothing.
	wantCode(t, w.svc.UserChanged(ctx, "not-an-id"), "invalid")
	wantCode(t, w.svc.UnitChanged(ctx, ""), "invalid")
	// An id that does not exist (any more) is dropped, and nothing else changes.
	changed("0123456789abcdef01234567")
	check("unknown user", map[string][2]int{"": {4, 2}})
}

// A change applied while a full load is running (after it read the users) is replayed on
// what the load read, so the load cannot bring the old state back.
func TestIncrementalChangeDuringLoad(t *testing.T) {
	w, dir, _ := countedWorld(t)
	ctx := context.Background()
	root := w.unit("Tỉnh", nil)
	a := w.unit("Huyện A", &root)
	b := w.unit("Huyện B", &root)
	course := w.learn.addCourse("DVC", "Dịch vụ công", "ky_nang_so", "Kỹ năng số")
	ann := w.user("An", a, "CV")
	w.user("Bình", a, "CV")
	tg := must(w.svc.CreateTarget(ctx, w.admin, NewTarget{UnitID: root.ID, Title: "DVC", CourseID: course.ID,
		Metric: MetricCompleted, Percent: 100, Due: "2025-12-31"}))

	for _, background := range []bool{false, true} {
		if background {
			// A background refresh this time: the snapshot exists and is past CacheTTL.
			w.clock.Advance(time.Minute)
		}
		dir.hold.Store(true)
		got := make(chan TargetStatus, 1)
		go func() { got <- must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{})) }()
		<-dir.read // the load has read the users, An still in her old unit
		dir.hold.Store(false)
		to := b.ID
		if background {
			to = a.ID
			if st := <-got; figures(st)[a.ID] != [2]int{1, 0} {
				t.Fatalf("stale snapshot served during the refresh: %v", figures(st))
			}
		}
		must(w.acc.UpdateUser(ctx, w.admin, ann.ID, accounts.UserPatch{UnitID: &to}))
		if err := w.svc.UserChanged(ctx, ann.ID); err != nil {
			t.Fatal(err)
		}
		dir.release <- struct{}{}
		if !background {
			if st := <-got; figures(st)[b.ID] != [2]int{1, 0} {
				t.Fatalf("the load undid the change: %v", figures(st))
			}
			continue
		}
		// Wait for the refresh to land (its AsOf is the advanced clock).
		for i := 0; ; i++ {
			st := must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
			if st.AsOf.Equal(w.clock.Now()) {
				if figures(st)[a.ID] != [2]int{2, 0} {
					t.Fatalf("the refresh undid the change: %v", figures(st))
				}
				break
			}
			if i == 500 {
				t.Fatal("the background refresh never landed")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Invalidate (bulk changes) marks the snapshots stale: they are served as they were while
// one background load replaces them, and the next status after it lands shows the change.
func TestInvalidateRefreshesInBackground(t *testing.T) {
	w, dir, learn := countedWorld(t)
	ctx := context.Background()
	root := w.unit("Tỉnh", nil)
	course := w.learn.addCourse("DVC", "Dịch vụ công", "ky_nang_so", "Kỹ năng số")
	class := w.learn.addClass(course.ID, "Lớp", t0)
	w.learn.enrol(class, w.user("An", root, "CV"), 100, t0)
	tg := must(w.svc.CreateTarget(ctx, w.admin, NewTarget{UnitID: root.ID, Title: "DVC", CourseID: course.ID,
		Metric: MetricCompleted, Percent: 100, Due: "2025-12-31"}))
	before := must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
	// Written behind the service's back, as an import does, then announced in bulk.
	for i := range 3 {
		w.learn.enrol(class, w.user(fmt.Sprintf("Mới %d", i), root, "CV"), 100, t0)
	}
	w.clock.Advance(time.Second) // the reload is newer than the old snapshot
	w.svc.Invalidate()
	for i := 0; ; i++ {
		st := must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
		if st.Staff == 4 && st.Done == 4 {
			if !st.AsOf.After(before.AsOf) {
				t.Fatalf("as of %v after the reload, was %v", st.AsOf, before.AsOf)
			}
			break
		}
		// Until both reloads land, the old data is served, under the old time (the
		// directory may land before the enrolments: then the newcomers count, not done).
		if (st.Staff != 1 && st.Staff != 4) || st.Done != 1 || !st.AsOf.Equal(before.AsOf) {
			t.Fatalf("while reloading: %d/%d as of %v; want the old data as of %v", st.Done, st.Staff, st.AsOf, before.AsOf)
		}
		if i == 500 {
			t.Fatal("the background reload never landed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := dir.staff.Load(); n != 2 {
		t.Fatalf("users read %d times, want 2", n)
	}
	if n := learn.reads.Load(); n != 2 {
		t.Fatalf("enrolments read %d times, want 2", n)
	}
}

// Warm loads the directory and every target's metric data; the first status reads nothing.
func TestWarm(t *testing.T) {
	w, dir, learn := countedWorld(t)
	ctx := context.Background()
	root := w.unit("Tỉnh", nil)
	course := w.learn.addCourse("DVC", "Dịch vụ công", "ky_nang_so", "Kỹ năng số")
	class := w.learn.addClass(course.ID, "Lớp", t0)
	w.learn.enrol(class, w.user("An", root, "CV"), 100, t0)
	tg := must(w.svc.CreateTarget(ctx, w.admin, NewTarget{UnitID: root.ID, Title: "DVC", CourseID: course.ID,
		Metric: MetricCompleted, Percent: 100, Due: "2025-12-31"}))
	must(w.svc.CreateTarget(ctx, w.admin, NewTarget{UnitID: root.ID, Title: "DVC 2", CourseID: course.ID,
		Metric: MetricCompleted, Percent: 50, Due: "2025-12-31"}))
	if err := w.svc.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	if a, b, c := dir.units.Load(), dir.staff.Load(), learn.reads.Load(); a != 1 || b != 1 || c != 1 {
		t.Fatalf("Warm read units %d, users %d, enrolments %d times; want 1 each", a, b, c)
	}
	if st := must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{})); st.Staff != 1 || st.Done != 1 {
		t.Fatalf("status %+v", st.StatusNode)
	}
	if a, b, c := dir.units.Load(), dir.staff.Load(), learn.reads.Load(); a != 1 || b != 1 || c != 1 {
		t.Fatalf("after Warm the status read units %d, users %d, enrolments %d times", a, b, c)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	w2, _, _ := countedWorld(t)
	if err := w2.svc.Warm(cancelled); err == nil {
		t.Fatal("Warm with a cancelled context succeeded")
	}
}

// Status reads running while users move back and forth and units are renamed never see a
// torn snapshot (run with -race to check the locking and the copy-on-write).
func TestIncrementalChangesConcurrent(t *testing.T) {
	w, _, _ := countedWorld(t)
	ctx := context.Background()
	root := w.unit("Tỉnh", nil)
	a := w.unit("Huyện A", &root)
	b := w.unit("Huyện B", &root)
	course := w.learn.addCourse("DVC", "Dịch vụ công", "ky_nang_so", "Kỹ năng số")
	class := w.learn.addClass(course.ID, "Lớp", t0)
	var movers []accounts.User
	for i := range 20 {
		u := w.user(fmt.Sprintf("Người %d", i), a, "CV")
		if i%2 == 0 {
			w.learn.enrol(class, u, 100, t0)
		}
		if i < 6 {
			movers = append(movers, u)
		}
	}
	tg := must(w.svc.CreateTarget(ctx, w.admin, NewTarget{UnitID: root.ID, Title: "DVC", CourseID: course.ID, Metric: MetricCompleted, Percent: 100, Due: "2025-12-31"}))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, 100)
	for _, u := range movers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 6 { // ends back in A
				to := []string{b.ID, a.ID}[i%2]
				if _, err := w.acc.UpdateUser(ctx, w.admin, u.ID, accounts.UserPatch{UnitID: &to}); err != nil {
					errc <- err
					return
				}
				if err := w.svc.UserChanged(ctx, u.ID); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 5 {
			name := fmt.Sprintf("Huyện B %d", i)
			if _, err := w.acc.UpdateUnit(ctx, w.admin, b.ID, accounts.UnitPatch{Name: &name}); err != nil {
				errc <- err
				return
			}
			if err := w.svc.UnitChanged(ctx, b.ID); err != nil {
				errc <- err
				return
			}
			w.clock.Advance(time.Minute) // past CacheTTL: background refreshes run too
		}
	}()
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				st, err := w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{})
				if err == nil {
					sum := [2]int{}
					for _, c := range st.Children {
						sum[0] += c.Staff
						sum[1] += c.Done
					}
					if st.Staff != 20 || st.Done != 10 || sum != [2]int{20, 10} {
						err = fmt.Errorf("status %d/%d, children %v", st.Done, st.Staff, sum)
					}
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	// Everyone ended where they started (A), and the last name of B shows.
	st := must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
	if f := figures(st); f[a.ID] != [2]int{20, 10} {
		t.Fatalf("after the moves: %v", f)
	}
	for _, c := range st.Children {
		if c.Unit.ID == b.ID && c.Unit.Name != "Huyện B 4" {
			t.Fatalf("B shows as %q", c.Unit.Name)
		}
	}
}
