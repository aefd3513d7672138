package reports

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"hoctap/accounts"
)

type certFixture struct {
	w              *world
	unit, other    accounts.Unit
	course         CourseInfo
	class          ClassInfo
	learner, peer  accounts.User
	officer, alien accounts.Principal
	trainer        accounts.Principal
}

func newCertFixture(t *testing.T) *certFixture {
	w := newWorld(t)
	f := &certFixture{w: w}
	prov := w.unit("Tỉnh Quảng Trị", nil)
	f.unit = w.unit("Sở Tài nguyên và Môi trường", &prov)
	f.other = w.unit("Sở Y tế", &prov)
	f.course = w.learn.addCourse("CDS-01", "Chuyển đổi số trong cơ quan nhà nước", "ky_nang_so", "Kỹ năng số")
	tr := w.user("Giảng viên Hà", f.other, "Giảng viên", accounts.RoleTrainer)
	f.trainer = officer(tr)
	f.class = w.learn.addClass(f.course.ID, "Lớp CĐS khoá 1/2025", t0, tr.ID)
	f.learner = w.user("Nguyễn Thị Ngọc Ánh <script>", f.unit, "Chuyên viên chính")
	f.peer = w.user("Đặng Quốc Việt", f.unit, "Chuyên viên")
	w.learn.enrol(f.class, f.learner, 100, t0.AddDate(0, 1, 0))
	w.learn.enrol(f.class, f.peer, 40, t0)
	f.officer = officer(w.user("Tổ chức Sở TNMT", f.unit, "Trưởng phòng", accounts.RoleUnitAdmin))
	f.alien = officer(w.user("Tổ chức Sở Y tế", f.other, "Trưởng phòng", accounts.RoleUnitAdmin))
	w.quiz.res[f.course.ID] = CourseQuizResults{
		Quizzes: []QuizInfo{{ID: "q1", Required: true}, {ID: "q2", Required: true}},
		Results: []QuizResult{{QuizID: "q1", UserID: f.learner.ID, BestPercent: 90, Passed: true}, {QuizID: "q2", UserID: f.learner.ID, BestPercent: 80, Passed: true}},
	}
	return f
}

func TestCertificateIssuedOnceUnderConcurrency(t *testing.T) {
	f := newCertFixture(t)
	ctx := context.Background()
	const n = 24
	numbers := make([]string, n)
	errsCh := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := f.w.svc.IssueCertificate(ctx, f.class.ID, f.learner.ID)
			if err != nil {
				errsCh <- err
				return
			}
			numbers[i] = c.Number
		})
	}
	wg.Wait()
	close(errsCh)
	for err := range errsCh {
		t.Fatal(err)
	}
	for _, num := range numbers {
		if num != "HT-2025-000001" {
			t.Fatalf("numbers %v", numbers)
		}
	}
	count, err := f.w.db.Database.Collection(CollCertificates).CountDocuments(ctx, bson.M{})
	if err != nil || count != 1 {
		t.Fatalf("%d certificates stored (%v)", count, err)
	}
	c := must(f.w.svc.IssueCertificate(ctx, f.class.ID, f.learner.ID))
	if c.Number != "HT-2025-000001" || c.LearnerName != f.learner.FullName || c.UnitName != "Sở Tài nguyên và Môi trường" ||
		c.CourseTitle != f.course.Title || c.Position != "Chuyên viên chính" || c.Score == nil || *c.Score != 85 ||
		c.Result != "Hoàn thành – điểm kiểm tra 85,0%" || !c.CompletedAt.Equal(t0.AddDate(0, 1, 0)) ||
		c.VerifyURL != "https://hoctap.example.gov.vn/verify/HT-2025-000001" {
		t.Fatalf("certificate %+v", c)
	}

	// Not completed: nothing issued. Unknown enrolment: not found.
	_, err = f.w.svc.IssueCertificate(ctx, f.class.ID, f.peer.ID)
	wantCode(t, err, "conflict")
	_, err = f.w.svc.IssueCertificate(ctx, f.class.ID, "nobody")
	wantCode(t, err, "not_found")
	// The next certificate takes the next number, with no gap.
	f.w.learn.enrol(f.class, f.peer, 100, t0)
	f.w.learn.mu.Lock()
	for i, e := range f.w.learn.enrolments {
		if e.UserID == f.peer.ID && !e.Completed {
			f.w.learn.enrolments = append(f.w.learn.enrolments[:i], f.w.learn.enrolments[i+1:]...)
			break
		}
	}
	f.w.learn.mu.Unlock()
	f.w.clock.Advance(time.Hour)
	n2 := must(f.w.svc.IssueClassCertificates(ctx, f.trainer, f.class.ID))
	if n2 != 1 {
		t.Fatalf("catch-up issued %d", n2)
	}
	if p := must(f.w.svc.ListCertificates(ctx, f.officer, CertificateFilter{ClassID: f.class.ID})); p.Total != 2 || p.Items[1].Number != "HT-2025-000001" || p.Items[0].Number != "HT-2025-000002" {
		t.Fatalf("list %+v", p)
	}
	if n3 := must(f.w.svc.IssueClassCertificates(ctx, f.w.admin, f.class.ID)); n3 != 0 {
		t.Fatalf("catch-up again issued %d", n3)
	}
	_, err = f.w.svc.IssueClassCertificates(ctx, officer(f.learner), f.class.ID)
	wantCode(t, err, "forbidden")
}

func TestCertificateVerifyAndRevoke(t *testing.T) {
	f := newCertFixture(t)
	ctx := context.Background()
	c := must(f.w.svc.IssueCertificate(ctx, f.class.ID, f.learner.ID))

	v := must(f.w.svc.Verify(ctx, "  ht-2025-000001 "))
	want := VerifiedCertificate{Number: c.Number, LearnerName: f.learner.FullName, CourseTitle: f.course.Title, IssuedAt: c.IssuedAt}
	if v != want {
		t.Fatalf("verify %+v, want %+v", v, want)
	}
	for _, made := range []string{"HT-2025-000002", "HT-2024-000001", "", "abc", "HT-2025-1", "'; drop"} {
		_, err := f.w.svc.Verify(ctx, made)
		wantCode(t, err, "not_found")
	}

	// Who sees it: the learner, their unit's officer, an admin; not a peer or another unit's officer.
	for _, p := range []accounts.Principal{officer(f.learner), f.officer, f.w.admin} {
		must(f.w.svc.GetCertificate(ctx, p, c.ID))
	}
	for _, p := range []accounts.Principal{officer(f.peer), f.alien, f.trainer} {
		_, err := f.w.svc.GetCertificate(ctx, p, c.ID)
		wantCode(t, err, "not_found")
	}
	if p := must(f.w.svc.ListMyCertificates(ctx, officer(f.learner))); p.Total != 1 || p.Items[0].ID != c.ID {
		t.Fatalf("mine %+v", p)
	}
	if p := must(f.w.svc.ListMyCertificates(ctx, officer(f.peer))); p.Total != 0 {
		t.Fatalf("peer's %+v", p)
	}
	// A completion nobody issued a certificate for shows up when the learner looks.
	other := f.w.learn.addClass(f.course.ID, "Lớp 2", t0)
	f.w.learn.enrol(other, f.peer, 100, t0)
	if p := must(f.w.svc.ListMyCertificates(ctx, officer(f.peer))); p.Total != 1 || p.Items[0].ClassID != other.ID || p.Items[0].Number != "HT-2025-000002" {
		t.Fatalf("peer's after completing %+v", p)
	}
	if p := must(f.w.svc.ListCertificates(ctx, f.alien, CertificateFilter{})); p.Total != 0 {
		t.Fatalf("alien lists %+v", p)
	}
	_, err := f.w.svc.ListCertificates(ctx, officer(f.learner), CertificateFilter{})
	wantCode(t, err, "forbidden")

	// Revocation.
	_, err = f.w.svc.RevokeCertificate(ctx, f.officer, c.ID, "  ")
	wantCode(t, err, "invalid")
	_, err = f.w.svc.RevokeCertificate(ctx, f.officer, c.ID, strings.Repeat("x", 501))
	wantCode(t, err, "invalid")
	_, err = f.w.svc.RevokeCertificate(ctx, officer(f.learner), c.ID, "tự thu hồi")
	wantCode(t, err, "forbidden")
	_, err = f.w.svc.RevokeCertificate(ctx, f.alien, c.ID, "không phải đơn vị mình")
	wantCode(t, err, "not_found")
	if v := must(f.w.svc.Verify(ctx, c.Number)); v.Revoked {
		t.Fatal("revoked by a refused request")
	}
	r := must(f.w.svc.RevokeCertificate(ctx, f.officer, c.ID, "Gian lận khi kiểm tra"))
	if !r.Revoked || r.RevokeNote != "Gian lận khi kiểm tra" || r.RevokedBy != f.officer.User.ID {
		t.Fatalf("revoked %+v", r)
	}
	if v := must(f.w.svc.Verify(ctx, c.Number)); !v.Revoked {
		t.Fatal("verification does not show the revocation")
	}
	_, err = f.w.svc.RevokeCertificate(ctx, f.w.admin, c.ID, "lại")
	wantCode(t, err, "conflict")
	// Issuing again does not replace a revoked certificate.
	again := must(f.w.svc.IssueCertificate(ctx, f.class.ID, f.learner.ID))
	if again.ID != c.ID || !again.Revoked {
		t.Fatalf("re-issue %+v", again)
	}
}

func TestCertificateDocuments(t *testing.T) {
	f := newCertFixture(t)
	ctx := context.Background()
	c := must(f.w.svc.IssueCertificate(ctx, f.class.ID, f.learner.ID))
	pdf, got, err := f.w.svc.CertificatePDF(ctx, officer(f.learner), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Number != c.Number || !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf, []byte("/FontFile2")) ||
		!bytes.Contains(pdf, []byte("/ToUnicode")) || !bytes.Contains(pdf, []byte("/Subtype /Image")) {
		t.Fatalf("PDF (%d bytes) lacks its font, text map or QR image", len(pdf))
	}
	if len(pdf) > 200_000 {
		t.Fatalf("PDF is %d bytes: fonts not subset?", len(pdf))
	}
	_, _, err = f.w.svc.CertificatePDF(ctx, officer(f.peer), c.ID)
	wantCode(t, err, "not_found")

	page := string(must(f.w.svc.CertificateHTML(ctx, f.officer, c.ID)))
	for _, want := range []string{"Nguyễn Thị Ngọc Ánh &lt;script&gt;", "HT-2025-000001", "Chuyển đổi số trong cơ quan nhà nước",
		"01/03/2025", "01/04/2025", "Hoàn thành – điểm kiểm tra 85,0%", "https://hoctap.example.gov.vn/verify/HT-2025-000001", `name="viewport"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "ĐÃ THU HỒI") {
		t.Fatal("unescaped name or false revocation")
	}
	must(f.w.svc.RevokeCertificate(ctx, f.w.admin, c.ID, "Sai thông tin <b>"))
	page = string(must(f.w.svc.CertificateHTML(ctx, f.officer, c.ID)))
	if !strings.Contains(page, "ĐÃ THU HỒI: Sai thông tin &lt;b&gt;") {
		t.Fatal("revoked page does not say so")
	}
	revoked, _, err := f.w.svc.CertificatePDF(ctx, f.officer, c.ID)
	if err != nil || bytes.Equal(revoked, pdf) {
		t.Fatalf("revoked PDF: %v", err)
	}
}

func TestCertificateScore(t *testing.T) {
	res := CourseQuizResults{
		Quizzes: []QuizInfo{{ID: "a", Required: true}, {ID: "b", Required: true}, {ID: "c"}},
		Results: []QuizResult{{QuizID: "a", UserID: "u", BestPercent: 90}, {QuizID: "c", UserID: "u", BestPercent: 10}, {QuizID: "c", UserID: "v", BestPercent: 70}},
	}
	for _, c := range []struct {
		res  CourseQuizResults
		user string
		want float64
		ok   bool
	}{
		{res, "u", 45, true}, // b not taken counts 0; c not required
		{res, "v", 0, false},
		{CourseQuizResults{Quizzes: []QuizInfo{{ID: "c"}}, Results: res.Results}, "v", 70, true},
		{CourseQuizResults{}, "u", 0, false},
	} {
		if got, ok := CertificateScore(c.res, c.user); got != c.want || ok != c.ok {
			t.Errorf("%s: %v %v, want %v %v", c.user, got, ok, c.want, c.ok)
		}
	}
	_ = fmt.Sprint
}

// Numbers count per Vietnamese calendar year: 17:30 UTC on 31 December is already the next
// year in Vietnam, and that year's counter starts at 1.
func TestCertificateNumberYear(t *testing.T) {
	f := newCertFixture(t)
	ctx := context.Background()
	must(f.w.svc.IssueCertificate(ctx, f.class.ID, f.learner.ID))
	f.w.clock.Advance(time.Date(2025, 12, 31, 17, 30, 0, 0, time.UTC).Sub(f.w.clock.Now()))
	f.w.learn.mu.Lock()
	for i, e := range f.w.learn.enrolments {
		if e.UserID == f.peer.ID {
			f.w.learn.enrolments[i].Completed = true
			at := t0
			f.w.learn.enrolments[i].CompletedAt = &at
		}
	}
	f.w.learn.mu.Unlock()
	c := must(f.w.svc.IssueCertificate(ctx, f.class.ID, f.peer.ID))
	if c.Number != "HT-2026-000001" {
		t.Fatalf("number %s", c.Number)
	}
}

func TestEnrolmentReader(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	done := t0.Add(time.Hour)
	docs := []any{
		bson.M{"_id": "e1", "class_id": "k1", "course_id": "c1", "starts_at": t0, "user_id": "u1", "username": "an", "full_name": "Lê An",
			"unit_id": "x", "position": "CV", "enrolled_at": t0, "enrolled_by": "admin", "class_name": "Lớp", "course_title": "DVC",
			"progress": bson.M{"percent": 100, "completed": true, "completed_at": done, "completed_lessons": 3, "total_lessons": 3}},
		bson.M{"_id": "e2", "class_id": "k2", "course_id": "c1", "starts_at": t0, "user_id": "u2", "full_name": "Bình",
			"unit_id": "y", "enrolled_at": t0, "progress": bson.M{"percent": 40, "completed": false}},
		bson.M{"_id": "e3", "class_id": "k3", "course_id": "c2", "user_id": "u1", "progress": bson.M{}},
	}
	if _, err := w.db.Database.Collection(EnrolmentsCollection).InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	r := NewEnrolmentReader(w.db.Database)
	recs := must(r.CourseEnrolments(ctx, "c1"))
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	for _, e := range recs {
		if e.UserID == "u1" && (!e.Completed || e.CompletedAt == nil || !e.CompletedAt.Equal(done) || e.Percent != 100 ||
			e.FullName != "Lê An" || e.ClassID != "k1" || !e.ClassStarts.Equal(t0) || e.Position != "CV") {
			t.Fatalf("record %+v", e)
		}
		if e.UserID == "u2" && (e.Completed || e.Percent != 40 || e.CompletedAt != nil) {
			t.Fatalf("record %+v", e)
		}
	}
	if recs := must(r.ClassEnrolments(ctx, "k3")); len(recs) != 1 || recs[0].CourseID != "c2" {
		t.Fatalf("class k3: %+v", recs)
	}
	if recs := must(r.ClassEnrolments(ctx, "none")); len(recs) != 0 || recs == nil {
		t.Fatalf("no class: %#v", recs)
	}
}
