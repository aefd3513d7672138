package reports

import (
	"context"
	"sync"
	"testing"
	"time"

	"hoctap/accounts"
	"hoctap/audit"
	"hoctap/audit/trail"
)

// Certificates issued on completion are recorded once, by "system", whatever the races;
// a catch-up run names its caller; a revocation names the officer and the reason. The
// officer of the learner's unit reads these entries, another unit's does not.
func TestCertificatesAreAudited(t *testing.T) {
	f := newCertFixture(t)
	ctx := context.Background()
	log := audit.New(audit.Config{DB: f.w.db.Database, Units: f.w.acc, Clock: f.w.clock.Now})
	if err := log.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	f.w.svc.audit = log

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := f.w.svc.IssueCertificate(ctx, f.class.ID, f.learner.ID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	f.w.learn.enrol(f.class, f.peer, 100, t0) // the peer completes: drop their first enrolment
	f.w.learn.mu.Lock()
	for i, e := range f.w.learn.enrolments {
		if e.UserID == f.peer.ID && !e.Completed {
			f.w.learn.enrolments = append(f.w.learn.enrolments[:i], f.w.learn.enrolments[i+1:]...)
			break
		}
	}
	f.w.learn.mu.Unlock()
	f.w.clock.Advance(time.Hour)
	if n := must(f.w.svc.IssueClassCertificates(ctx, f.trainer, f.class.ID)); n < 1 {
		t.Fatalf("catch-up issued %d", n)
	}
	c := must(f.w.svc.IssueCertificate(ctx, f.class.ID, f.learner.ID))
	if _, err := f.w.svc.RevokeCertificate(ctx, f.officer, c.ID, "Cấp nhầm lớp"); err != nil {
		t.Fatal(err)
	}

	admin := accounts.Principal{User: accounts.User{ID: "a", Roles: []accounts.Role{accounts.RoleAdmin}}}
	issued := must(log.List(ctx, admin, audit.Filter{Action: string(trail.CertificateIssue)}))
	if issued.Total != 2 {
		t.Fatalf("issue entries = %+v", issued)
	}
	byActor := map[string]trail.Entry{}
	for _, e := range issued.Items {
		byActor[e.Actor] = e
	}
	auto, manual := byActor[trail.SystemID], byActor[f.trainer.User.ID]
	if auto.ObjectLabel != "HT-2025-000001" || auto.Object != "certificate:"+c.ID || auto.Details["user_id"] != f.learner.ID {
		t.Errorf("automatic issue entry = %+v", auto)
	}
	if manual.ObjectLabel != "HT-2025-000002" || manual.Details["user_id"] != f.peer.ID {
		t.Errorf("catch-up issue entry = %+v", manual)
	}
	revoked := must(log.List(ctx, f.officer, audit.Filter{Action: string(trail.CertificateRevoke)}))
	if revoked.Total != 1 || revoked.Items[0].Actor != f.officer.User.ID || revoked.Items[0].Details["reason"] != "Cấp nhầm lớp" {
		t.Errorf("revoke entries = %+v", revoked)
	}
	if mine := must(log.List(ctx, f.officer, audit.Filter{})); mine.Total != 3 {
		t.Errorf("the learner's unit officer reads %d entries, want 3", mine.Total)
	}
	// The other unit's officer reads only the catch-up run: its trainer is in that unit.
	if theirs := must(log.List(ctx, f.alien, audit.Filter{})); theirs.Total != 1 || theirs.Items[0].Actor != f.trainer.User.ID {
		t.Errorf("another unit's officer reads %+v", theirs)
	}
}
