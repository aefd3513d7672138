package reports

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"hoctap/accounts"
	"hoctap/internal/ids"
	"hoctap/internal/textfold"
)

// mongoLearning is the fake learning domain with enrolments read by the real
// EnrolmentReader, so the benchmark measures the production read of one course's
// enrolments.
type mongoLearning struct {
	*fakeLearning
	*EnrolmentReader
}

func (m *mongoLearning) CourseEnrolments(ctx context.Context, courseID string) ([]EnrolmentRecord, error) {
	return m.EnrolmentReader.CourseEnrolments(ctx, courseID)
}

func (m *mongoLearning) ClassEnrolments(ctx context.Context, classID string) ([]EnrolmentRecord, error) {
	return m.EnrolmentReader.ClassEnrolments(ctx, classID)
}

// province generates a province of 3,000 units (1 province, 30 districts, 2,969
// communes) and 40,000 staff, 30,000 of them enrolled in one course and about 60% of
// those completed, inserted with insertMany like an import would.
func province(b testing.TB, w *world) (root accounts.Unit, course CourseInfo) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	var units []any
	mk := func(name string, parent *accounts.Unit) accounts.Unit {
		w.seq++
		u := accounts.Unit{ID: ids.New(), Name: name, Code: fmt.Sprintf("P%05d", w.seq), Path: []string{},
			CreatedAt: t0, UpdatedAt: t0, NameFold: textfold.Fold(name)}
		if parent != nil {
			u.ParentID = parent.ID
			u.Path = append(append([]string{}, parent.Path...), parent.ID)
		}
		units = append(units, u)
		return u
	}
	root = mk("Tỉnh Bình An", nil)
	var leaves []accounts.Unit
	districts := make([]accounts.Unit, 30)
	for i := range districts {
		districts[i] = mk(fmt.Sprintf("Huyện %02d", i), &root)
		leaves = append(leaves, districts[i])
	}
	for i := range 2969 {
		leaves = append(leaves, mk(fmt.Sprintf("Xã %04d", i), &districts[i%30]))
	}
	if _, err := w.db.Database.Collection(accounts.UnitsCollection).InsertMany(ctx, units); err != nil {
		b.Fatal(err)
	}
	course = w.learn.addCourse("DVC", "Ứng dụng dịch vụ công", "ky_nang_so", "Kỹ năng số")
	classID := ids.New()
	hash := "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("s", 22) + "$" + strings.Repeat("k", 43)
	positions := []string{"Chuyên viên", "Trưởng phòng", "Phó Chủ tịch UBND", "Công chức địa chính"}
	var users, enrols []any
	flush := func() {
		if len(users) > 0 {
			if _, err := w.db.Database.Collection(accounts.UsersCollection).InsertMany(ctx, users); err != nil {
				b.Fatal(err)
			}
		}
		if len(enrols) > 0 {
			if _, err := w.db.Database.Collection(EnrolmentsCollection).InsertMany(ctx, enrols); err != nil {
				b.Fatal(err)
			}
		}
		users, enrols = users[:0], enrols[:0]
	}
	for i := range 40_000 {
		unit := leaves[r.IntN(len(leaves))]
		name := fmt.Sprintf("Nguyễn Văn Thử %05d", i)
		u := accounts.User{ID: ids.New(), Username: fmt.Sprintf("cb%05d", i), FullName: name, UnitID: unit.ID,
			Position: positions[r.IntN(len(positions))], Roles: []accounts.Role{accounts.RoleLearner},
			Active: i%50 != 0, Language: "vi", CreatedAt: t0, UpdatedAt: t0, PasswordHash: hash,
			NameFold: textfold.Fold(name + " " + fmt.Sprintf("cb%05d", i))}
		users = append(users, u)
		if i%4 != 0 {
			completed := r.IntN(10) < 6
			prog := bson.M{"percent": r.IntN(100), "completed": completed, "completed_lessons": 3, "total_lessons": 5}
			if completed {
				prog["percent"] = 100
				prog["completed_at"] = t0
			}
			enrols = append(enrols, bson.M{"_id": ids.New(), "class_id": classID, "class_name": "Lớp 1",
				"course_id": course.ID, "course_title": course.Title, "starts_at": t0, "ends_at": t0,
				"user_id": u.ID, "username": u.Username, "full_name": u.FullName, "unit_id": u.UnitID,
				"position": u.Position, "enrolled_at": t0, "enrolled_by": "admin", "progress": prog})
		}
		if len(users) == 5000 {
			flush()
		}
	}
	flush()
	if _, err := w.db.Database.Collection(EnrolmentsCollection).Indexes().CreateOne(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "course_id", Value: 1}}}); err != nil {
		b.Fatal(err)
	}
	return root, course
}

// BenchmarkTargetStatusProvince rolls up a target over a province of 40,000 staff in
// 3,000 units with 30,000 enrolments (embedded FerretDB unless HOCTAP_TEST_MONGODB_URI):
// "warm" reuses the directory and enrolment snapshots (the usual case within CacheTTL);
// "after one user changed" moves one user to another unit through accounts (not timed)
// and then times UserChanged and the status that must show the move; "cold" is a new
// service on every call (the first request after a start without Warm), reading
// everything from the database.
func BenchmarkTargetStatusProvince(b *testing.B) {
	w := newWorld(b)
	learn := &mongoLearning{fakeLearning: w.learn, EnrolmentReader: NewEnrolmentReader(w.db.Database)}
	fresh := func() *Service {
		svc, err := New(Config{DB: w.db.Database, Clock: w.clock.Now, Directory: NewAccountsDirectory(w.acc, w.db.Database), Learning: learn})
		if err != nil {
			b.Fatal(err)
		}
		return svc
	}
	w.svc = fresh()
	root, course := province(b, w)
	ctx := context.Background()
	tg := must(w.svc.CreateTarget(ctx, w.admin, NewTarget{UnitID: root.ID, Title: "DVC", CourseID: course.ID,
		Metric: MetricCompleted, Percent: 100, Due: "2025-12-31"}))
	check := func(b *testing.B, st TargetStatus) {
		if st.Staff != 39_200 || len(st.Children) != 30 {
			b.Fatalf("staff %d, %d districts", st.Staff, len(st.Children))
		}
		b.ReportMetric(float64(st.Staff), "staff")
	}
	b.Run("warm", func(b *testing.B) {
		must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
		var st TargetStatus
		for b.Loop() {
			st = must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
		}
		check(b, st)
	})
	b.Run("after one user changed", func(b *testing.B) {
		first := must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
		d, _, err := w.svc.directory(ctx)
		if err != nil {
			b.Fatal(err)
		}
		u := d.users[0]
		// From the user's district to another one, and back, and so on.
		from, to := d.byID[u.UnitID].ParentID, first.Children[0].Unit.ID
		if to == from {
			to = first.Children[1].Unit.ID
		}
		staff := func(st TargetStatus) map[string]int {
			out := map[string]int{}
			for _, c := range st.Children {
				out[c.Unit.ID] = c.Staff
			}
			return out
		}
		st, prev := first, staff(first)
		for b.Loop() {
			b.StopTimer()
			must(w.acc.UpdateUser(ctx, w.admin, u.ID, accounts.UserPatch{UnitID: &to}))
			b.StartTimer()
			if err := w.svc.UserChanged(ctx, u.ID); err != nil {
				b.Fatal(err)
			}
			st = must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
			b.StopTimer()
			now := staff(st)
			if now[to] != prev[to]+1 || now[from] != prev[from]-1 {
				b.Fatalf("the move does not show: %d→%d, %d→%d", prev[from], now[from], prev[to], now[to])
			}
			prev, from, to = now, to, from
			b.StartTimer()
		}
		check(b, st)
	})
	b.Run("cold", func(b *testing.B) {
		var st TargetStatus
		for b.Loop() {
			svc := fresh()
			st = must(svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
		}
		check(b, st)
	})
}
