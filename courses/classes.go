package courses

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/audit/trail"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

const (
	maxCapacity = 1_000_000
	maxTrainers = 50
	maxUserIDs  = 10_000
	insertChunk = 1000
	seatRetries = 100
	// bulkChunk bounds bulk writes of updates: FerretDB v1.24 stalls on a single bulk
	// write of about 100 updates (measured; 25 at a time are fast).
	bulkChunk = 25
)

// ClassInput is what a class is opened with. Capacity 0 means no limit.
type ClassInput struct {
	Name       string    `json:"name"`
	StartsAt   time.Time `json:"starts_at"`
	EndsAt     time.Time `json:"ends_at"`
	Capacity   int       `json:"capacity"`
	TrainerIDs []string  `json:"trainer_ids"`
}

// ClassFilter selects classes.
type ClassFilter struct {
	CourseID string
	Limit    int // 50 when zero, at most 500
	Offset   int
}

// EnrolmentFilter pages through a class's learners.
type EnrolmentFilter struct {
	Limit  int // 50 when zero, at most 500
	Offset int
}

// classAccess is what a caller may do with a class.
type classAccess int

const (
	accessNone    classAccess = iota
	accessLearner             // enrolled: may see the class and their own progress
	accessScoped              // unit_admin: may enrol and list learners of their units
	accessManage              // admin, trainer of the class, its creator: everything
)

func (s *Service) findClass(ctx context.Context, id string) (Class, error) {
	var c Class
	err := s.classes.FindOne(ctx, bson.M{"_id": id}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return c, notFound("class " + id)
	}
	if err != nil {
		return c, fmt.Errorf("courses: read class: %w", dbErr(err))
	}
	return c, nil
}

func (s *Service) isEnrolled(ctx context.Context, classID, userID string) (bool, error) {
	n, err := s.enrolments.CountDocuments(ctx, bson.M{"class_id": classID, "user_id": userID})
	if err != nil {
		return false, fmt.Errorf("courses: read enrolment: %w", dbErr(err))
	}
	return n > 0, nil
}

func (s *Service) access(ctx context.Context, p accounts.Principal, c *Class) (classAccess, error) {
	switch {
	case isAdmin(p),
		p.Has(accounts.RoleTrainer) && slices.Contains(c.TrainerIDs, p.User.ID),
		c.CreatedBy == p.User.ID && (p.Has(accounts.RoleTrainer) || p.Has(accounts.RoleUnitAdmin)):
		return accessManage, nil
	case p.Has(accounts.RoleUnitAdmin):
		return accessScoped, nil
	}
	in, err := s.isEnrolled(ctx, c.ID, p.User.ID)
	if err != nil {
		return accessNone, err
	}
	if in {
		return accessLearner, nil
	}
	return accessNone, nil
}

// classFor returns class id when p has at least the wanted access: an error wrapping
// errs.ErrNotFound when p may not even see it (learners outside the class, and anyone for
// a class that does not exist), errs.ErrForbidden when p sees it but may not do this.
func (s *Service) classFor(ctx context.Context, p accounts.Principal, id string, want classAccess) (Class, classAccess, error) {
	c, err := s.findClass(ctx, id)
	if err != nil {
		return c, accessNone, err
	}
	a, err := s.access(ctx, p, &c)
	if err != nil {
		return c, a, err
	}
	switch {
	case a >= want:
		return c, a, nil
	case a == accessNone && onlyLearner(p):
		return c, a, notFound("class " + id)
	}
	return c, a, forbidden("the class's trainers, unit admins and admins manage it")
}

// CreateClass opens a class of the latest revision of a published course. p must be a
// trainer, unit_admin or admin; a trainer who names no trainers trains the class. Errors
// wrap errs.ErrForbidden, errs.ErrNotFound (course), errs.ErrConflict (course not
// published) or errs.ErrInvalid (fields, unknown or non-trainer trainer ids).
func (s *Service) CreateClass(ctx context.Context, p accounts.Principal, courseID string, in ClassInput) (Class, error) {
	if !isAdmin(p) && !p.Has(accounts.RoleTrainer) && !p.Has(accounts.RoleUnitAdmin) {
		return Class{}, forbidden("only trainers, unit admins and admins open classes")
	}
	course, err := s.findCourse(ctx, courseID)
	if err != nil {
		return Class{}, err
	}
	if !canSee(p, &course) {
		return Class{}, notFound("course " + courseID)
	}
	if course.Status != StatusPublished || course.Revision == 0 {
		return Class{}, fmt.Errorf("courses: classes are opened only for published courses: %w", errs.ErrConflict)
	}
	in.Name = strings.TrimSpace(in.Name)
	trainers := dedupe(in.TrainerIDs)
	if len(trainers) == 0 && p.Has(accounts.RoleTrainer) {
		trainers = []string{p.User.ID}
	}
	var f errs.Fields
	checkTitle(&f, "name", in.Name)
	f.Check(in.StartsAt.IsZero(), "starts_at", "is required")
	f.Check(in.EndsAt.IsZero() || !in.EndsAt.After(in.StartsAt), "ends_at", "must be after starts_at")
	f.Check(in.Capacity < 0 || in.Capacity > maxCapacity, "capacity", "must be from 0 (no limit) to 1000000")
	f.Check(len(trainers) > maxTrainers, "trainer_ids", "at most 50 trainers")
	if err := f.Err(); err != nil {
		return Class{}, err
	}
	if err := s.checkTrainers(ctx, trainers); err != nil {
		return Class{}, err
	}
	now := s.now()
	c := Class{
		ID: ids.New(), CourseID: course.ID, CourseCode: course.Code, CourseTitle: course.Title, Revision: course.Revision,
		Name: in.Name, StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt.UTC(), Capacity: in.Capacity,
		TrainerIDs: trainers, CreatedBy: p.User.ID, CreatedAt: now, UpdatedAt: now,
	}
	if c.TrainerIDs == nil {
		c.TrainerIDs = []string{}
	}
	if _, err := s.classes.InsertOne(ctx, c); err != nil {
		return Class{}, fmt.Errorf("courses: create class: %w", dbErr(err))
	}
	e := classEntry(p, trail.ClassCreate, c).With("course", c.CourseCode).With("revision", strconv.Itoa(c.Revision)).
		With("trainers", strconv.Itoa(len(c.TrainerIDs)))
	if err := trail.Record(ctx, s.audit, e); err != nil {
		return Class{}, err
	}
	return c, nil
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (s *Service) checkTrainers(ctx context.Context, trainerIDs []string) error {
	if len(trainerIDs) == 0 {
		return nil
	}
	users, err := s.dir.FindUsersByIDs(ctx, trainerIDs)
	if err != nil {
		return fmt.Errorf("courses: find trainers: %w", err)
	}
	ok := map[string]bool{}
	for _, u := range users {
		ok[u.ID] = u.Active && u.Has(accounts.RoleTrainer)
	}
	for _, id := range trainerIDs {
		if !ok[id] {
			return errs.Field("trainer_ids", fmt.Sprintf("%s is not an active trainer", id))
		}
	}
	return nil
}

// GetClass returns a class to its trainers, unit admins, admins and enrolled learners.
// Errors wrap errs.ErrNotFound (also for learners not in it) or errs.ErrForbidden.
func (s *Service) GetClass(ctx context.Context, p accounts.Principal, id string) (Class, error) {
	c, _, err := s.classFor(ctx, p, id, accessLearner)
	return c, err
}

// ListClasses returns classes, newest first: all of them to admins and unit admins, the
// classes they train or opened to trainers, and their own classes to everyone else.
// Errors wrap errs.ErrInvalid for a bad page.
func (s *Service) ListClasses(ctx context.Context, p accounts.Principal, f ClassFilter) (accounts.Page[Class], error) {
	var fe errs.Fields
	limit := pageLimit(&fe, f.Limit, f.Offset)
	if err := fe.Err(); err != nil {
		return accounts.Page[Class]{}, err
	}
	filter := bson.M{}
	if f.CourseID != "" {
		filter["course_id"] = f.CourseID
	}
	switch {
	case isAdmin(p) || p.Has(accounts.RoleUnitAdmin):
	default:
		refs, err := s.userEnrolments(ctx, p.User.ID, true)
		if err != nil {
			return accounts.Page[Class]{}, err
		}
		mine := bson.A{}
		for _, r := range refs {
			mine = append(mine, r.ClassID)
		}
		or := bson.A{bson.M{"_id": bson.M{"$in": mine}}}
		if p.Has(accounts.RoleTrainer) {
			or = append(or, bson.M{"trainer_ids": p.User.ID}, bson.M{"created_by": p.User.ID})
		}
		filter["$or"] = or
	}
	return findPage[Class](ctx, s.classes, filter, bson.D{{Key: "starts_at", Value: -1}, {Key: "_id", Value: 1}}, limit, f.Offset)
}

func findPage[T any](ctx context.Context, c *mongo.Collection, filter any, sort bson.D, limit, offset int) (accounts.Page[T], error) {
	total, err := c.CountDocuments(ctx, filter)
	if err != nil {
		return accounts.Page[T]{}, fmt.Errorf("courses: count %s: %w", c.Name(), dbErr(err))
	}
	items, err := findItems[T](ctx, c, filter, sort, limit, offset)
	if err != nil {
		return accounts.Page[T]{}, err
	}
	return accounts.Page[T]{Items: items, Total: int(total)}, nil
}

func findItems[T any](ctx context.Context, c *mongo.Collection, filter any, sort bson.D, limit, offset int) ([]T, error) {
	cur, err := c.Find(ctx, filter, options.Find().SetSort(sort).SetSkip(int64(offset)).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("courses: list %s: %w", c.Name(), dbErr(err))
	}
	items := []T{}
	if err := cur.All(ctx, &items); err != nil {
		return nil, fmt.Errorf("courses: list %s: %w", c.Name(), dbErr(err))
	}
	return items, nil
}

// MoveClassToRevision moves a class onto another published revision of its course, on
// purpose (classes never move by themselves). Lesson ids carry over, so learners keep
// the progress of lessons both revisions share; every enrolment's summary is
// recomputed (an acknowledged course completion stays). Errors wrap errs.ErrNotFound,
// errs.ErrForbidden (only admins, the class's trainers and its creator) or
// errs.ErrInvalid (no such revision).
func (s *Service) MoveClassToRevision(ctx context.Context, p accounts.Principal, classID string, revision int) (Class, error) {
	c, _, err := s.classFor(ctx, p, classID, accessManage)
	if err != nil {
		return Class{}, err
	}
	re, err := s.revision(ctx, c.CourseID, revision)
	if errors.Is(err, errs.ErrNotFound) {
		return Class{}, errs.Field("revision", "the course has no such published revision")
	}
	if err != nil {
		return Class{}, err
	}
	now := s.now()
	from := c.Revision
	if _, err := s.classes.UpdateOne(ctx, bson.M{"_id": c.ID}, bson.M{"$set": bson.M{"revision": revision, "updated_at": now}}); err != nil {
		return Class{}, fmt.Errorf("courses: move class: %w", dbErr(err))
	}
	s.forgetClass(c.ID)
	c.Revision, c.UpdatedAt = revision, now
	if err := s.recomputeClass(ctx, c, re); err != nil {
		return Class{}, err
	}
	e := classEntry(p, trail.ClassRevision, c).With("revision_from", strconv.Itoa(from)).With("revision_to", strconv.Itoa(revision))
	if err := trail.Record(ctx, s.audit, e); err != nil {
		return Class{}, err
	}
	return c, nil
}

// recomputeClass rewrites the progress summary of every enrolment in class c against
// revision re, from the lessons each enrolment records as done.
func (s *Service) recomputeClass(ctx context.Context, c Class, re *revisionEntry) error {
	cur, err := s.enrolments.Find(ctx, bson.M{"class_id": c.ID}, options.Find().SetProjection(bson.M{"user_id": 1, "done_lessons": 1, "progress": 1}))
	if err != nil {
		return fmt.Errorf("courses: read enrolments: %w", dbErr(err))
	}
	var es []enrolmentDoc
	if err := cur.All(ctx, &es); err != nil {
		return fmt.Errorf("courses: read enrolments: %w", dbErr(err))
	}
	var models []mongo.WriteModel
	for _, e := range es {
		sum, err := s.summarise(ctx, c.CourseID, e.UserID, re, e.DoneLessons, e.Progress)
		if err != nil {
			return err
		}
		models = append(models, mongo.NewUpdateOneModel().
			SetFilter(bson.M{"class_id": c.ID, "user_id": e.UserID}).
			SetUpdate(bson.M{"$set": summarySet(sum)}))
	}
	return s.bulk(ctx, s.enrolments, models)
}

func (s *Service) bulk(ctx context.Context, c *mongo.Collection, models []mongo.WriteModel) error {
	for len(models) > 0 {
		n := min(len(models), bulkChunk)
		if _, err := c.BulkWrite(ctx, models[:n], options.BulkWrite().SetOrdered(false)); err != nil {
			return fmt.Errorf("courses: write %s: %w", c.Name(), dbErr(err))
		}
		models = models[n:]
	}
	return nil
}

// enrolmentDoc is an Enrolment as stored, with the ids of the course's lessons the
// learner has completed (in any revision).
type enrolmentDoc struct {
	Enrolment   `bson:",inline"`
	DoneLessons []string `bson:"done_lessons"`
}

// summarise computes a learner's summary for revision re from the lessons they completed.
// A course completion once recorded stays, at 100%.
func (s *Service) summarise(ctx context.Context, courseID, userID string, re *revisionEntry, done []string, prev Summary) (Summary, error) {
	total, n := len(re.order), 0
	for _, id := range done {
		if _, ok := re.lessons[id]; ok {
			n++
		}
	}
	sum := Summary{CompletedLessons: n, TotalLessons: total, LastActivityAt: prev.LastActivityAt}
	if prev.Completed {
		sum.Completed, sum.CompletedAt, sum.Percent = true, prev.CompletedAt, 100
		return sum, nil
	}
	passed := false
	if total > 0 && n >= total {
		var err error
		if passed, err = s.quizzesPassed(ctx, courseID, userID); err != nil {
			return Summary{}, err
		}
	}
	sum.Percent = CoursePercent(n, total, passed)
	if total > 0 && n >= total && passed {
		at := s.now()
		sum.Completed, sum.CompletedAt, sum.Percent = true, &at, 100
	}
	return sum, nil
}

func summarySet(sum Summary) bson.M {
	return bson.M{
		"progress.percent": sum.Percent, "progress.completed_lessons": sum.CompletedLessons,
		"progress.total_lessons": sum.TotalLessons, "progress.completed": sum.Completed,
		"progress.completed_at": sum.CompletedAt,
	}
}

// EnrolUsers enrols the named users in a class. Enrolling someone already in is harmless
// and counted in Already; inactive users and those over capacity are listed in Refused.
// A unit_admin may enrol only users of their units. Errors wrap errs.ErrNotFound,
// errs.ErrForbidden (role, or a user outside a unit_admin's units: nobody is enrolled) or
// errs.ErrInvalid (no ids, too many, unknown ids: nobody is enrolled).
func (s *Service) EnrolUsers(ctx context.Context, p accounts.Principal, classID string, userIDs []string) (EnrolResult, error) {
	c, a, err := s.classFor(ctx, p, classID, accessScoped)
	if err != nil {
		return EnrolResult{}, err
	}
	userIDs = dedupe(userIDs)
	if len(userIDs) == 0 || len(userIDs) > maxUserIDs {
		return EnrolResult{}, errs.Field("user_ids", "give from 1 to 10000 user ids")
	}
	users, err := s.dir.FindUsersByIDs(ctx, userIDs)
	if err != nil {
		return EnrolResult{}, fmt.Errorf("courses: find users: %w", err)
	}
	found := map[string]bool{}
	for _, u := range users {
		found[u.ID] = true
	}
	var unknown []string
	for _, id := range userIDs {
		if !found[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return EnrolResult{}, errs.Field("user_ids", "no such users: "+strings.Join(unknown[:min(len(unknown), 10)], ", "))
	}
	if a == accessScoped {
		scope, err := s.unitScope(ctx, p)
		if err != nil {
			return EnrolResult{}, err
		}
		for _, u := range users {
			if !scope[u.UnitID] {
				return EnrolResult{}, forbidden(fmt.Sprintf("%s is not in a unit you manage", u.ID))
			}
		}
	}
	return s.enrol(ctx, p, c, users, classEntry(p, trail.EnrolmentCreate, c))
}

// EnrolUnit enrols every user of a unit, and with includeSubunits of every unit below it,
// in a class: thousands at once. Running it again, or at the same moment as someone
// else, is harmless: each learner is enrolled exactly once and the others are counted in
// Already. Errors wrap errs.ErrNotFound (class), errs.ErrForbidden (role, or a unit
// outside a unit_admin's units) or errs.ErrInvalid (no such unit).
func (s *Service) EnrolUnit(ctx context.Context, p accounts.Principal, classID, unitID string, includeSubunits bool) (EnrolResult, error) {
	c, a, err := s.classFor(ctx, p, classID, accessScoped)
	if err != nil {
		return EnrolResult{}, err
	}
	if strings.TrimSpace(unitID) == "" {
		return EnrolResult{}, errs.Field("unit_id", "is required")
	}
	sub, err := s.dir.SubtreeUnitIDs(ctx, unitID)
	if errors.Is(err, errs.ErrNotFound) {
		return EnrolResult{}, errs.Field("unit_id", "no such unit")
	}
	if err != nil {
		return EnrolResult{}, fmt.Errorf("courses: units below %s: %w", unitID, err)
	}
	if a == accessScoped {
		scope, err := s.unitScope(ctx, p)
		if err != nil {
			return EnrolResult{}, err
		}
		if !scope[unitID] {
			return EnrolResult{}, forbidden("the unit is not one you manage")
		}
	}
	units := []string{unitID}
	if includeSubunits {
		units = dedupe(append(units, sub...))
	}
	users, err := s.dir.ListUsersInUnits(ctx, units)
	if err != nil {
		return EnrolResult{}, fmt.Errorf("courses: users of units: %w", err)
	}
	e := classEntry(p, trail.EnrolmentUnit, c).In(unitID).With("unit_id", unitID).
		With("include_subunits", strconv.FormatBool(includeSubunits))
	return s.enrol(ctx, p, c, users, e)
}

// enrol enrols users in class c (see enrolUsers) and records entry e in the audit log,
// completed with the counts and the enrolled users, when anyone was enrolled (also when
// enrolling failed part-way: those enrolled stay enrolled).
func (s *Service) enrol(ctx context.Context, p accounts.Principal, c Class, users []accounts.User, e trail.Entry) (EnrolResult, error) {
	var enrolled []string
	res, err := s.enrolUsers(ctx, p, c, users, &enrolled)
	if len(enrolled) > 0 {
		if rerr := trail.Record(ctx, s.audit, enrolmentEntry(e, res, enrolled, users)); rerr != nil {
			return res, errors.Join(err, rerr)
		}
	}
	return res, err
}

// enrolUsers inserts one enrolment per user not yet in class c. Seats are reserved on the
// class's counter first (compare-and-set, so concurrent requests never overbook), then
// the enrolments are inserted unordered; the unique (class_id, user_id) index turns a
// concurrent duplicate into a duplicate-key error, counted as already enrolled and its
// seat given back.
func (s *Service) enrolUsers(ctx context.Context, p accounts.Principal, c Class, users []accounts.User, enrolled *[]string) (EnrolResult, error) {
	res := EnrolResult{}
	existing, err := s.classMembers(ctx, c.ID, nil)
	if err != nil {
		return res, err
	}
	if c.Enrolled > len(existing) {
		// Seats reserved by a crashed enrolment, or by one in progress: repairSeats tells
		// them apart by age. Without this a class without a limit, which never looks full,
		// would keep a wrong count for good.
		if _, err := s.repairSeats(ctx, c); err != nil {
			return res, err
		}
	}
	var cands []accounts.User
	seen := map[string]bool{}
	for _, u := range users {
		switch {
		case seen[u.ID]:
			continue
		case existing[u.ID]:
			res.Already++
		case !u.Active:
			res.Refused = append(res.Refused, Refusal{UserID: u.ID, Reason: "inactive"})
		default:
			cands = append(cands, u)
		}
		seen[u.ID] = true
	}
	if len(cands) == 0 {
		return res, nil
	}
	re, err := s.revision(ctx, c.CourseID, c.Revision)
	if err != nil {
		return res, err
	}
	done, err := s.completedLessons(ctx, c.CourseID, cands)
	if err != nil {
		return res, err
	}
	now := s.now()
	var enrolledIDs []string
	refs := map[string]enrolmentRef{} // by user id
	defer func() {
		s.addEnrolments(refs)
		*enrolled = enrolledIDs
	}()
	for len(cands) > 0 {
		k, err := s.reserveSeats(ctx, c.ID, len(cands))
		if err != nil {
			return res, err
		}
		if k == 0 {
			break
		}
		batch := cands[:k]
		cands = cands[k:]
		docs := make([]enrolmentDoc, 0, len(batch))
		for _, u := range batch {
			d := enrolmentDoc{Enrolment: Enrolment{
				ID: ids.New(), ClassID: c.ID, ClassName: c.Name, CourseID: c.CourseID, CourseTitle: c.CourseTitle,
				StartsAt: c.StartsAt, EndsAt: c.EndsAt, UserID: u.ID, Username: u.Username, FullName: u.FullName,
				UnitID: u.UnitID, Position: u.Position, EnrolledAt: now, EnrolledBy: p.User.ID,
			}, DoneLessons: done[u.ID]}
			if d.DoneLessons == nil {
				d.DoneLessons = []string{}
			}
			if d.Progress, err = s.summarise(ctx, c.CourseID, u.ID, re, d.DoneLessons, Summary{}); err != nil {
				_ = s.releaseSeats(ctx, c.ID, len(batch))
				return res, err
			}
			docs = append(docs, d)
		}
		inserted, dups, err := s.insertEnrolments(ctx, docs)
		for _, d := range inserted {
			enrolledIDs = append(enrolledIDs, d.UserID)
			refs[d.UserID] = enrolmentRef{ID: d.ID, ClassID: c.ID, CourseID: c.CourseID}
		}
		res.Enrolled += len(inserted)
		res.Already += dups
		if lost := len(batch) - len(inserted); lost > 0 {
			if rerr := s.releaseSeats(ctx, c.ID, lost); rerr != nil && err == nil {
				err = rerr
			}
		}
		if err != nil {
			return res, err
		}
	}
	if len(cands) > 0 {
		// Out of seats. Some of the rest may have been enrolled meanwhile by a concurrent
		// request: those are already in, the others are refused.
		ids := make([]string, len(cands))
		for i, u := range cands {
			ids[i] = u.ID
		}
		in, err := s.classMembers(ctx, c.ID, ids)
		if err != nil {
			return res, err
		}
		for _, u := range cands {
			if in[u.ID] {
				res.Already++
			} else {
				res.Refused = append(res.Refused, Refusal{UserID: u.ID, Reason: "capacity"})
			}
		}
	}
	return res, nil
}

// classMembers returns the enrolled users of a class, among userIDs when given.
func (s *Service) classMembers(ctx context.Context, classID string, userIDs []string) (map[string]bool, error) {
	filter := bson.M{"class_id": classID}
	if userIDs != nil {
		filter["user_id"] = bson.M{"$in": userIDs}
	}
	cur, err := s.enrolments.Find(ctx, filter, options.Find().SetProjection(bson.M{"user_id": 1}))
	if err != nil {
		return nil, fmt.Errorf("courses: read enrolments: %w", dbErr(err))
	}
	var rows []struct {
		UserID string `bson:"user_id"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("courses: read enrolments: %w", dbErr(err))
	}
	out := make(map[string]bool, len(rows))
	for _, r := range rows {
		out[r.UserID] = true
	}
	return out, nil
}

// completedLessons returns, per user, the lessons of a course they have completed, so
// that a learner joining a second class of a course keeps what they did.
func (s *Service) completedLessons(ctx context.Context, courseID string, users []accounts.User) (map[string][]string, error) {
	want := make(map[string]bool, len(users))
	for _, u := range users {
		want[u.ID] = true
	}
	cur, err := s.progress.Find(ctx, bson.M{"course_id": courseID, "completed": true},
		options.Find().SetProjection(bson.M{"user_id": 1, "lesson_id": 1}))
	if err != nil {
		return nil, fmt.Errorf("courses: read progress: %w", dbErr(err))
	}
	var rows []struct {
		UserID   string `bson:"user_id"`
		LessonID string `bson:"lesson_id"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("courses: read progress: %w", dbErr(err))
	}
	out := map[string][]string{}
	for _, r := range rows {
		if want[r.UserID] {
			out[r.UserID] = append(out[r.UserID], r.LessonID)
		}
	}
	return out, nil
}

// reserveSeats takes up to n seats of a class and returns how many it took (n when the
// class has no capacity limit).
func (s *Service) reserveSeats(ctx context.Context, classID string, n int) (int, error) {
	for range seatRetries {
		c, err := s.findClass(ctx, classID)
		if err != nil {
			return 0, err
		}
		k := n
		if c.Capacity > 0 {
			k = min(n, c.Capacity-c.Enrolled)
		}
		if k <= 0 {
			repaired, err := s.repairSeats(ctx, c)
			if err != nil || !repaired {
				return 0, err
			}
			continue
		}
		res, err := s.classes.UpdateOne(ctx, bson.M{"_id": classID, "enrolled": c.Enrolled},
			bson.M{"$inc": bson.M{"enrolled": k}, "$set": bson.M{"seats_reserved_at": s.now()}})
		if err != nil {
			return 0, fmt.Errorf("courses: reserve seats: %w", dbErr(err))
		}
		if res.MatchedCount == 1 {
			return k, nil
		}
	}
	return 0, fmt.Errorf("courses: the class is being enrolled into by others; try again: %w", errs.ErrConflict)
}

// seatRepairAge is how long after the last reservation a class's seat counter may be
// recounted: longer than any enrolment takes between reserving seats and inserting.
const seatRepairAge = 10 * time.Minute

// repairSeats recounts a class's seats from its enrolments. A process killed between
// reserving seats and inserting the enrolments leaves the counter too high: a full class
// would refuse learners it has room for, and any class shows a wrong count. Only a class
// whose last reservation is older than seatRepairAge is recounted, so seats that another
// enrolment holds right now are never given away; the write is conditional on the counter
// it read. It reports whether it freed seats.
func (s *Service) repairSeats(ctx context.Context, c Class) (bool, error) {
	if s.now().Sub(c.SeatsReservedAt) < seatRepairAge {
		return false, nil
	}
	actual, err := s.enrolments.CountDocuments(ctx, bson.M{"class_id": c.ID})
	if err != nil {
		return false, fmt.Errorf("courses: recount seats: %w", dbErr(err))
	}
	if int(actual) >= c.Enrolled {
		return false, nil
	}
	res, err := s.classes.UpdateOne(ctx, bson.M{"_id": c.ID, "enrolled": c.Enrolled}, bson.M{"$set": bson.M{"enrolled": int(actual)}})
	if err != nil {
		return false, fmt.Errorf("courses: recount seats: %w", dbErr(err))
	}
	if res.MatchedCount == 1 {
		s.log.Warn("recounted the seats of a class whose counter a crash left too high", "class_id", c.ID, "counter", c.Enrolled, "enrolments", actual)
	}
	return true, nil
}

func (s *Service) releaseSeats(ctx context.Context, classID string, n int) error {
	if _, err := s.classes.UpdateOne(ctx, bson.M{"_id": classID}, bson.M{"$inc": bson.M{"enrolled": -n}}); err != nil {
		return fmt.Errorf("courses: release seats: %w", dbErr(err))
	}
	return nil
}

// insertEnrolments inserts docs unordered in chunks and returns the user ids inserted and
// how many were duplicates of existing enrolments.
func (s *Service) insertEnrolments(ctx context.Context, docs []enrolmentDoc) (inserted []enrolmentDoc, dups int, err error) {
	for start := 0; start < len(docs); start += insertChunk {
		chunk := docs[start:min(start+insertChunk, len(docs))]
		_, ierr := s.enrolments.InsertMany(ctx, chunk, options.InsertMany().SetOrdered(false))
		failed := map[int]bool{}
		if ierr != nil {
			var bwe mongo.BulkWriteException
			if !errors.As(ierr, &bwe) || bwe.WriteConcernError != nil {
				return inserted, dups, fmt.Errorf("courses: insert enrolments: %w", dbErr(ierr))
			}
			var other error
			for _, we := range bwe.WriteErrors {
				failed[we.Index] = true
				if isDupWrite(we.WriteError) {
					dups++
				} else if other == nil {
					other = fmt.Errorf("courses: insert enrolments: %w", we)
				}
			}
			err = other
		}
		for i, d := range chunk {
			if !failed[i] {
				inserted = append(inserted, d)
			}
		}
		if err != nil {
			return inserted, dups, err
		}
	}
	return inserted, dups, nil
}

func isDupWrite(we mongo.WriteError) bool {
	return we.Code == 11000 || we.Code == 11001 || strings.Contains(we.Message, "duplicate key") ||
		strings.Contains(we.Message, "UNIQUE constraint failed")
}

// ListClassEnrolments returns a page of a class's learners, by name, each with their
// progress summary: one find however large the class. A unit_admin who is not the class's
// trainer sees the learners of their units only. Errors wrap errs.ErrNotFound,
// errs.ErrForbidden or errs.ErrInvalid (page).
func (s *Service) ListClassEnrolments(ctx context.Context, p accounts.Principal, classID string, f EnrolmentFilter) (accounts.Page[Enrolment], error) {
	var fe errs.Fields
	limit := pageLimit(&fe, f.Limit, f.Offset)
	if err := fe.Err(); err != nil {
		return accounts.Page[Enrolment]{}, err
	}
	c, a, err := s.classFor(ctx, p, classID, accessScoped)
	if err != nil {
		return accounts.Page[Enrolment]{}, err
	}
	filter := bson.M{"class_id": classID}
	sort := bson.D{{Key: "full_name", Value: 1}, {Key: "user_id", Value: 1}}
	if a != accessScoped {
		// The whole class: its seat counter is the total, which spares a count that costs
		// as much as the find on FerretDB. A short page tells the exact total.
		page, err := findItems[Enrolment](ctx, s.enrolments, filter, sort, limit, f.Offset)
		if err != nil {
			return accounts.Page[Enrolment]{}, err
		}
		total := max(c.Enrolled, f.Offset+len(page))
		if len(page) < limit && (len(page) > 0 || f.Offset == 0) {
			total = f.Offset + len(page)
		}
		return accounts.Page[Enrolment]{Items: page, Total: total}, nil
	}
	scope, err := s.unitScope(ctx, p)
	if err != nil {
		return accounts.Page[Enrolment]{}, err
	}
	units := make([]string, 0, len(scope))
	for id := range scope {
		units = append(units, id)
	}
	filter["unit_id"] = bson.M{"$in": units}
	return findPage[Enrolment](ctx, s.enrolments, filter, sort, limit, f.Offset)
}

// ListMyEnrolments returns the caller's classes, newest enrolment first, each with their
// progress. Errors wrap errs.ErrInvalid (page).
func (s *Service) ListMyEnrolments(ctx context.Context, p accounts.Principal, f EnrolmentFilter) (accounts.Page[Enrolment], error) {
	var fe errs.Fields
	limit := pageLimit(&fe, f.Limit, f.Offset)
	if err := fe.Err(); err != nil {
		return accounts.Page[Enrolment]{}, err
	}
	return findPage[Enrolment](ctx, s.enrolments, bson.M{"user_id": p.User.ID}, bson.D{{Key: "enrolled_at", Value: -1}, {Key: "_id", Value: 1}}, limit, f.Offset)
}

// ClassRole tells the live package who userID is in a class: "trainer" for its trainers,
// "learner" for its enrolled learners, "" for anyone else and for a class that does not
// exist. Errors only when the database cannot answer (errs.ErrUnavailable).
func (s *Service) ClassRole(ctx context.Context, classID, userID string) (string, error) {
	c, err := s.classCached(ctx, classID)
	if errors.Is(err, errs.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if slices.Contains(c.TrainerIDs, userID) {
		return "trainer", nil
	}
	in, err := s.isEnrolled(ctx, classID, userID)
	if err != nil || !in {
		return "", err
	}
	return "learner", nil
}

// IsEnrolledInCourse reports whether userID is enrolled in a class of courseID; the
// assessment service asks before a learner starts an attempt. It answers from the
// in-memory enrolment index and re-reads the user's enrolments on a miss, so an enrolment
// made on another node counts within seconds. Errors wrap errs.ErrUnavailable.
func (s *Service) IsEnrolledInCourse(ctx context.Context, userID, courseID string) (bool, error) {
	inCourse := func(refs []enrolmentRef) bool {
		return slices.ContainsFunc(refs, func(r enrolmentRef) bool { return r.CourseID == courseID })
	}
	refs, err := s.userEnrolments(ctx, userID, false)
	if err != nil || inCourse(refs) {
		return err == nil, err
	}
	if refs, err = s.userEnrolments(ctx, userID, true); err != nil {
		return false, err
	}
	return inCourse(refs), nil
}

// IsTrainerOfCourse reports whether userID trains a class of courseID; trainers read and
// grade that course's quiz results. Errors wrap errs.ErrUnavailable.
func (s *Service) IsTrainerOfCourse(ctx context.Context, userID, courseID string) (bool, error) {
	n, err := s.db.Collection(CollClasses).CountDocuments(ctx, bson.M{"course_id": courseID, "trainer_ids": userID}, options.Count().SetLimit(1))
	if err != nil {
		return false, dbErr(err)
	}
	return n > 0, nil
}

// LearnersTaughtBy returns the ids of the learners enrolled in the classes of courseID
// that trainerID trains: a trainer reads and grades their own learners' quizzes, not those
// of another trainer's class of the same course. Errors wrap errs.ErrUnavailable.
func (s *Service) LearnersTaughtBy(ctx context.Context, trainerID, courseID string) ([]string, error) {
	cur, err := s.classes.Find(ctx, bson.M{"course_id": courseID, "trainer_ids": trainerID}, options.Find().SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return nil, dbErr(err)
	}
	var classes []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &classes); err != nil {
		return nil, dbErr(err)
	}
	if len(classes) == 0 {
		return nil, nil
	}
	classIDs := make([]string, len(classes))
	for i, c := range classes {
		classIDs[i] = c.ID
	}
	cur, err = s.enrolments.Find(ctx, bson.M{"class_id": bson.M{"$in": classIDs}}, options.Find().SetProjection(bson.M{"user_id": 1}))
	if err != nil {
		return nil, dbErr(err)
	}
	var rows []struct {
		UserID string `bson:"user_id"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, dbErr(err)
	}
	learners := make([]string, len(rows))
	for i, r := range rows {
		learners[i] = r.UserID
	}
	return learners, nil
}
