package reports

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/audit/trail"
	"hoctap/internal/database"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

// Certificates: one per learner and class, made exactly once however many completions
// race. The insert of the certificate (unique on class_id, user_id) decides who issues
// it; only that winner then takes a number from the year's counter ($inc on one counter
// document) and writes it, so numbers are unique and, barring a crash between the two
// writes, have no gaps. A certificate found without a number (such a crash, or a loser
// that waited too long) is numbered by whoever finds it, guarded by "number does not
// exist yet".

// numberPattern is the shape of certificate numbers: HT-<year>-<at least 6 digits>.
var numberPattern = regexp.MustCompile(`^HT-[0-9]{4}-[0-9]{6,}$`)

const maxReason = 500

// CertificateFilter selects certificates for ListCertificates.
type CertificateFilter struct {
	ClassID string
	UnitID  string // the learner's unit at issue; with its sub-units
	UserID  string
	Limit   int // default 50, at most 500
	Offset  int
}

// IssueCertificate issues the certificate of a learner who completed a class, or returns
// the one already issued: calling it again, or concurrently, never issues a second one.
// The courses service calls it when a learner completes a class. It returns an error
// wrapping errs.ErrNotFound when the class or the enrolment does not exist and
// errs.ErrConflict when the learner has not completed the class.
func (s *Service) IssueCertificate(ctx context.Context, classID, userID string) (Certificate, error) {
	return s.issue(ctx, trail.System, classID, userID)
}

// issue is IssueCertificate on behalf of by, whom the audit log names as the issuer.
func (s *Service) issue(ctx context.Context, by trail.Actor, classID, userID string) (Certificate, error) {
	if c, err := s.certByClassUser(ctx, classID, userID); err == nil && c.Number != "" {
		return s.withURL(c), nil
	} else if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return Certificate{}, err
	}
	c, err := s.draftCertificate(ctx, classID, userID)
	if err != nil {
		return Certificate{}, err
	}
	if _, err := s.certs.InsertOne(ctx, c); err != nil {
		if !database.IsDuplicateKey(err) {
			return Certificate{}, fmt.Errorf("reports: insert certificate: %w", dbErr(err))
		}
		// Someone else issued it first: wait for their number.
		return s.awaitNumber(ctx, by, classID, userID)
	}
	return s.assignNumber(ctx, by, c)
}

// draftCertificate gathers what a certificate shows, without a number.
func (s *Service) draftCertificate(ctx context.Context, classID, userID string) (Certificate, error) {
	e, err := s.learn.FindEnrolment(ctx, classID, userID)
	if err != nil {
		return Certificate{}, fmt.Errorf("reports: enrolment of %s in class %s: %w", userID, classID, err)
	}
	if !e.Completed || e.CompletedAt == nil {
		return Certificate{}, fmt.Errorf("the learner has not completed this class: %w", errs.ErrConflict)
	}
	class, err := s.learn.FindClass(ctx, classID)
	if err != nil {
		return Certificate{}, fmt.Errorf("reports: class %s: %w", classID, err)
	}
	course, err := s.learn.FindCourse(ctx, class.CourseID)
	if err != nil {
		return Certificate{}, fmt.Errorf("reports: course %s: %w", class.CourseID, err)
	}
	c := Certificate{
		ID: ids.New(), ClassID: class.ID, ClassName: class.Name, CourseID: course.ID, CourseCode: course.Code,
		CourseTitle: course.Title, UserID: userID, LearnerName: e.FullName, Username: e.Username,
		UnitID: e.UnitID, Position: e.Position, StartsAt: class.StartsAt.UTC(), EndsAt: class.EndsAt.UTC(),
		CompletedAt: e.CompletedAt.UTC().Truncate(time.Millisecond), IssuedAt: s.now(), Result: "Hoàn thành",
	}
	// The learner as they are now (name and unit may have changed since enrolment).
	users, err := s.dir.FindUsersByIDs(ctx, []string{userID})
	if err != nil {
		return Certificate{}, fmt.Errorf("reports: learner %s: %w", userID, err)
	}
	if len(users) == 1 {
		u := users[0]
		c.LearnerName, c.Username, c.UnitID, c.Position = u.FullName, u.Username, u.UnitID, u.Position
	}
	if c.UnitID != "" {
		unit, err := s.dir.FindUnitByID(ctx, c.UnitID)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return Certificate{}, fmt.Errorf("reports: unit %s: %w", c.UnitID, err)
		}
		c.UnitName = unit.Name
	}
	if s.quiz != nil {
		res, err := s.quiz.CourseQuizResults(ctx, course.ID)
		if err != nil {
			return Certificate{}, fmt.Errorf("reports: quiz results of course %s: %w", course.ID, err)
		}
		if score, ok := CertificateScore(res, userID); ok {
			c.Score = &score
			c.Result = "Hoàn thành – điểm kiểm tra " + FormatPercentVN(score)
		}
	}
	return c, nil
}

// CertificateScore is the score a certificate shows: the mean of the learner's best
// percent in the course's required quizzes (in every quiz they took when none is
// required), one decimal. ok is false when there is nothing to show.
func CertificateScore(res CourseQuizResults, userID string) (score float64, ok bool) {
	required := map[string]bool{}
	for _, q := range res.Quizzes {
		if q.Required {
			required[q.ID] = true
		}
	}
	best := map[string]float64{}
	for _, r := range res.Results {
		if r.UserID != userID || (len(required) > 0 && !required[r.QuizID]) {
			continue
		}
		best[r.QuizID] = max(best[r.QuizID], r.BestPercent)
	}
	n := len(best)
	if len(required) > 0 {
		n = len(required) // a required quiz not taken counts as 0
	}
	if len(best) == 0 || n == 0 {
		return 0, false
	}
	sum := 0.0
	for _, v := range best {
		sum += v
	}
	return round1(sum / float64(n)), true
}

// awaitNumber waits (briefly) for the issuer of a certificate to number it, and numbers
// it itself if that takes too long (the issuer may have died between its two writes).
func (s *Service) awaitNumber(ctx context.Context, by trail.Actor, classID, userID string) (Certificate, error) {
	delay := 5 * time.Millisecond
	for range 12 {
		c, err := s.certByClassUser(ctx, classID, userID)
		if err != nil {
			return Certificate{}, err
		}
		if c.Number != "" {
			return s.withURL(c), nil
		}
		select {
		case <-ctx.Done():
			return Certificate{}, fmt.Errorf("reports: waiting for a certificate number: %w: %w", errs.ErrUnavailable, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
	c, err := s.certByClassUser(ctx, classID, userID)
	if err != nil {
		return Certificate{}, err
	}
	return s.assignNumber(ctx, by, c)
}

// assignNumber gives c the next number of its issue year unless it has one, and returns
// the certificate as stored. The call whose write numbers the certificate (one only,
// whatever the races) records its issue by by in the audit log.
func (s *Service) assignNumber(ctx context.Context, by trail.Actor, c Certificate) (Certificate, error) {
	if c.Number != "" {
		return s.withURL(c), nil
	}
	year := c.IssuedAt.In(vnZone).Year()
	seq, err := s.nextSeq(ctx, fmt.Sprintf("HT-%d", year))
	if err != nil {
		return Certificate{}, err
	}
	number := fmt.Sprintf("HT-%d-%06d", year, seq)
	res, err := s.certs.UpdateOne(ctx, bson.M{"_id": c.ID, "number": bson.M{"$exists": false}},
		bson.M{"$set": bson.M{"number": number}})
	if err != nil {
		return Certificate{}, fmt.Errorf("reports: number certificate: %w", dbErr(err))
	}
	got, err := s.certByClassUser(ctx, c.ClassID, c.UserID)
	if err != nil {
		return Certificate{}, err
	}
	if res.ModifiedCount == 1 {
		if err := trail.Record(ctx, s.audit, issueEntry(by, got)); err != nil {
			return Certificate{}, err
		}
	}
	return s.withURL(got), nil
}

// nextSeq increments and returns the counter key.
func (s *Service) nextSeq(ctx context.Context, key string) (int64, error) {
	var doc struct {
		Seq int64 `bson:"seq"`
	}
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	var err error
	for range 3 { // two first upserts racing on MongoDB: one gets a duplicate key; retry
		err = s.counters.FindOneAndUpdate(ctx, bson.M{"_id": key}, bson.M{"$inc": bson.M{"seq": int64(1)}}, opts).Decode(&doc)
		if err == nil {
			return doc.Seq, nil
		}
		if !database.IsDuplicateKey(err) {
			break
		}
	}
	return 0, fmt.Errorf("reports: certificate counter %s: %w", key, dbErr(err))
}

func (s *Service) certByClassUser(ctx context.Context, classID, userID string) (Certificate, error) {
	return s.findCert(ctx, bson.M{"class_id": classID, "user_id": userID})
}

func (s *Service) findCert(ctx context.Context, filter bson.M) (Certificate, error) {
	var c Certificate
	err := s.certs.FindOne(ctx, filter).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Certificate{}, fmt.Errorf("certificate: %w", errs.ErrNotFound)
	}
	if err != nil {
		return Certificate{}, fmt.Errorf("reports: find certificate: %w", dbErr(err))
	}
	return c, nil
}

// VerifyURL is where a certificate number is checked publicly.
func (s *Service) VerifyURL(number string) string { return s.public + "/verify/" + number }

func (s *Service) withURL(c Certificate) Certificate {
	if c.Number != "" {
		c.VerifyURL = s.VerifyURL(c.Number)
	}
	return c
}

// NormalizeNumber trims and upper-cases a certificate number as people type it.
func NormalizeNumber(number string) string { return strings.ToUpper(strings.TrimSpace(number)) }

// Verify looks a certificate number up for anyone, signed in or not, and reveals only the
// number, the learner's name, the course, the issue time and whether it was revoked. It
// returns an error wrapping errs.ErrNotFound for a number that was never issued (or is
// not a number at all).
func (s *Service) Verify(ctx context.Context, number string) (VerifiedCertificate, error) {
	number = NormalizeNumber(number)
	if !numberPattern.MatchString(number) {
		return VerifiedCertificate{}, fmt.Errorf("certificate %q: %w", number, errs.ErrNotFound)
	}
	c, err := s.findCert(ctx, bson.M{"number": number})
	if err != nil {
		return VerifiedCertificate{}, err
	}
	return VerifiedCertificate{Number: c.Number, LearnerName: c.LearnerName, CourseTitle: c.CourseTitle,
		IssuedAt: c.IssuedAt, Revoked: c.Revoked}, nil
}

// canSeeCertificate reports whether actor may see c: its learner, an admin, or a
// unit_admin managing the learner's unit at issue.
func (s *Service) canSeeCertificate(ctx context.Context, actor accounts.Principal, c Certificate) (bool, error) {
	if actor.User.ID == c.UserID && actor.User.ID != "" || actor.Has(accounts.RoleAdmin) {
		return true, nil
	}
	return s.managesUnit(ctx, actor, c.UnitID)
}

// managesUnit reports whether actor is a unit_admin managing unitID.
func (s *Service) managesUnit(ctx context.Context, actor accounts.Principal, unitID string) (bool, error) {
	if !actor.Has(accounts.RoleUnitAdmin) || unitID == "" {
		return false, nil
	}
	u, err := s.dir.FindUnitByID(ctx, unitID)
	if errors.Is(err, errs.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reports: unit %s: %w", unitID, err)
	}
	return accounts.Manages(actor.User, u), nil
}

// GetCertificate returns a certificate to its learner, an admin, or a unit_admin managing
// the learner's unit; errs.ErrNotFound for anyone else or an unknown id.
func (s *Service) GetCertificate(ctx context.Context, actor accounts.Principal, id string) (Certificate, error) {
	if !ids.Valid(id) {
		return Certificate{}, fmt.Errorf("certificate %q: %w", id, errs.ErrNotFound)
	}
	c, err := s.findCert(ctx, bson.M{"_id": id})
	if err != nil {
		return Certificate{}, err
	}
	ok, err := s.canSeeCertificate(ctx, actor, c)
	if err != nil {
		return Certificate{}, err
	}
	if !ok || c.Number == "" {
		return Certificate{}, fmt.Errorf("certificate %s: %w", id, errs.ErrNotFound)
	}
	return s.withURL(c), nil
}

// ListMyCertificates returns the caller's own certificates, newest first. It first issues
// the certificate of every class the caller completed and has none for yet, so a
// certificate never depends on a completion hook having run.
func (s *Service) ListMyCertificates(ctx context.Context, actor accounts.Principal) (accounts.Page[Certificate], error) {
	if actor.User.ID == "" {
		return accounts.Page[Certificate]{}, fmt.Errorf("sign in first: %w", errs.ErrUnauthenticated)
	}
	recs, err := s.learn.UserEnrolments(ctx, actor.User.ID)
	if err != nil {
		return accounts.Page[Certificate]{}, fmt.Errorf("reports: enrolments of %s: %w", actor.User.ID, err)
	}
	have, err := s.listCerts(ctx, bson.M{"user_id": actor.User.ID}, 500, 0)
	if err != nil {
		return accounts.Page[Certificate]{}, err
	}
	issued := map[string]bool{}
	for _, c := range have.Items {
		if c.Number != "" {
			issued[c.ClassID] = true
		}
	}
	missing := false
	for _, r := range recs {
		if r.Completed && !issued[r.ClassID] {
			if _, err := s.IssueCertificate(ctx, r.ClassID, actor.User.ID); err != nil {
				return accounts.Page[Certificate]{}, err
			}
			missing = true
		}
	}
	if !missing {
		return have, nil
	}
	return s.listCerts(ctx, bson.M{"user_id": actor.User.ID}, 500, 0)
}

// ListCertificates returns certificates for officers: every one for an admin, those of
// learners whose unit at issue they manage for a unit_admin; filtered by class, unit (with
// sub-units) and learner. It returns errs.ErrForbidden for other callers and
// errs.ErrNotFound for a filter unit outside the caller's scope.
func (s *Service) ListCertificates(ctx context.Context, actor accounts.Principal, f CertificateFilter) (accounts.Page[Certificate], error) {
	if !isOfficer(actor) {
		return accounts.Page[Certificate]{}, fmt.Errorf("only personnel officers list certificates: %w", errs.ErrForbidden)
	}
	d, _, err := s.directory(ctx)
	if err != nil {
		return accounts.Page[Certificate]{}, err
	}
	sc, err := scopeOf(actor, d.units)
	if err != nil {
		return accounts.Page[Certificate]{}, err
	}
	filter := bson.M{"number": bson.M{"$exists": true}}
	if f.ClassID != "" {
		filter["class_id"] = f.ClassID
	}
	if f.UserID != "" {
		filter["user_id"] = f.UserID
	}
	var unitIDs []string
	if f.UnitID != "" {
		u, ok := d.byID[f.UnitID]
		if !ok || !sc.has(u.ID) {
			return accounts.Page[Certificate]{}, fmt.Errorf("unit %q: %w", f.UnitID, errs.ErrNotFound)
		}
		for _, x := range d.units {
			if covers(u.ID, x) {
				unitIDs = append(unitIDs, x.ID)
			}
		}
	} else if !sc.all {
		for id := range sc.managed {
			unitIDs = append(unitIDs, id)
		}
	}
	if f.UnitID != "" || !sc.all {
		filter["unit_id"] = bson.M{"$in": unitIDs}
	}
	limit, offset := clip(f.Limit, f.Offset)
	return s.listCerts(ctx, filter, limit, offset)
}

func (s *Service) listCerts(ctx context.Context, filter bson.M, limit, offset int) (accounts.Page[Certificate], error) {
	total, err := s.certs.CountDocuments(ctx, filter)
	if err != nil {
		return accounts.Page[Certificate]{}, fmt.Errorf("reports: count certificates: %w", dbErr(err))
	}
	cur, err := s.certs.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "issued_at", Value: -1}, {Key: "_id", Value: 1}}).
		SetSkip(int64(offset)).SetLimit(int64(limit)))
	if err != nil {
		return accounts.Page[Certificate]{}, fmt.Errorf("reports: find certificates: %w", dbErr(err))
	}
	items := []Certificate{}
	if err := cur.All(ctx, &items); err != nil {
		return accounts.Page[Certificate]{}, fmt.Errorf("reports: read certificates: %w", dbErr(err))
	}
	for i := range items {
		items[i] = s.withURL(items[i])
	}
	return accounts.Page[Certificate]{Items: items, Total: int(total)}, nil
}

// RevokeCertificate marks a certificate revoked with a reason; verification then shows it
// as revoked. An admin or a unit_admin managing the learner's unit may. It returns an
// invalid error for a missing or too long reason, errs.ErrNotFound for an unknown or
// hidden certificate, errs.ErrForbidden for its own learner, and errs.ErrConflict when
// it is already revoked.
func (s *Service) RevokeCertificate(ctx context.Context, actor accounts.Principal, id, reason string) (Certificate, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Certificate{}, errs.Field("reason", "is required")
	}
	if utf8.RuneCountInString(reason) > maxReason {
		return Certificate{}, errs.Field("reason", fmt.Sprintf("must be at most %d characters", maxReason))
	}
	c, err := s.GetCertificate(ctx, actor, id)
	if err != nil {
		return Certificate{}, err
	}
	ok := actor.Has(accounts.RoleAdmin)
	if !ok {
		if ok, err = s.managesUnit(ctx, actor, c.UnitID); err != nil {
			return Certificate{}, err
		}
	}
	if !ok {
		return Certificate{}, fmt.Errorf("only personnel officers revoke certificates: %w", errs.ErrForbidden)
	}
	now := s.now()
	res, err := s.certs.UpdateOne(ctx, bson.M{"_id": c.ID, "revoked": false}, bson.M{"$set": bson.M{
		"revoked": true, "revoked_at": now, "revoked_by": actor.User.ID, "revoke_reason": reason}})
	if err != nil {
		return Certificate{}, fmt.Errorf("reports: revoke certificate: %w", dbErr(err))
	}
	if res.MatchedCount == 0 {
		return Certificate{}, fmt.Errorf("certificate %s is already revoked: %w", c.Number, errs.ErrConflict)
	}
	c.Revoked, c.RevokedAt, c.RevokedBy, c.RevokeNote = true, &now, actor.User.ID, reason
	if err := trail.Record(ctx, s.audit, revokeEntry(actor.AuditActor(), c)); err != nil {
		return Certificate{}, err
	}
	return c, nil
}

// IssueClassCertificates issues the certificates of every learner who completed a class
// and has none yet (a catch-up when completions were recorded while issuing failed). The
// class's trainers, unit_admins and admins may run it. It returns how many it issued,
// errs.ErrForbidden for other callers and errs.ErrNotFound for an unknown class.
func (s *Service) IssueClassCertificates(ctx context.Context, actor accounts.Principal, classID string) (int, error) {
	class, err := s.learn.FindClass(ctx, classID)
	if err != nil {
		return 0, err
	}
	if !isOfficer(actor) && !isTrainerOf(actor, class) {
		return 0, fmt.Errorf("only the class's trainers and personnel officers issue certificates: %w", errs.ErrForbidden)
	}
	recs, err := s.learn.ClassEnrolments(ctx, classID)
	if err != nil {
		return 0, fmt.Errorf("reports: enrolments of class %s: %w", classID, err)
	}
	cur, err := s.certs.Find(ctx, bson.M{"class_id": classID, "number": bson.M{"$exists": true}}, options.Find().SetProjection(bson.M{"user_id": 1}))
	if err != nil {
		return 0, fmt.Errorf("reports: find certificates: %w", dbErr(err))
	}
	var have []struct {
		UserID string `bson:"user_id"`
	}
	if err := cur.All(ctx, &have); err != nil {
		return 0, fmt.Errorf("reports: read certificates: %w", dbErr(err))
	}
	issued := map[string]bool{}
	for _, h := range have {
		issued[h.UserID] = true
	}
	n := 0
	for _, r := range recs {
		if !r.Completed || issued[r.UserID] {
			continue
		}
		if _, err := s.issue(ctx, actor.AuditActor(), classID, r.UserID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func isTrainerOf(p accounts.Principal, c ClassInfo) bool {
	if !p.Has(accounts.RoleTrainer) {
		return false
	}
	for _, id := range c.TrainerIDs {
		if id == p.User.ID {
			return true
		}
	}
	return false
}

// issueEntry is the audit entry of certificate c's issue by by. Its id is fixed by the
// certificate, so the issue is in the log once even if recording it is repeated.
func issueEntry(by trail.Actor, c Certificate) trail.Entry {
	e := by.Did(trail.CertificateIssue, "certificate:"+c.ID, c.Number).In(c.UnitID).
		With("class_id", c.ClassID).With("class", c.ClassName).With("course", c.CourseCode).
		With("user_id", c.UserID).With("username", c.Username)
	e.ID = string(trail.CertificateIssue) + ":" + c.ID
	return e
}

// revokeEntry is the audit entry of certificate c's revocation by by, with its reason.
func revokeEntry(by trail.Actor, c Certificate) trail.Entry {
	return by.Did(trail.CertificateRevoke, "certificate:"+c.ID, c.Number).In(c.UnitID).
		With("user_id", c.UserID).With("username", c.Username).With("reason", c.RevokeNote)
}
