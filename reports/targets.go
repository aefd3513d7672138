package reports

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
	"hoctap/internal/textfold"
)

// Limits on target input.
const (
	maxTitle     = 200
	maxPositions = 50
	maxPosition  = 100
)

// TargetFilter selects targets for ListTargets.
type TargetFilter struct {
	// UnitID, when set, keeps the targets that apply to that unit: set on it or on a unit
	// above it.
	UnitID string
	Limit  int // default 50, at most 500
	Offset int
}

// StatusQuery says which part of a target's tree to roll up.
type StatusQuery struct {
	// UnitID roots the status at a unit below the target's unit; empty means the
	// target's unit (or, for a unit_admin who manages only part of it, their first unit
	// under it).
	UnitID string
	// Depth limits how many levels of sub-units are returned; 0 or less returns all.
	Depth int
}

// PendingQuery selects people not done yet.
type PendingQuery struct {
	UnitID string // as StatusQuery.UnitID; people of this unit and every unit below it
	Limit  int    // default 50, at most 500
	Offset int
}

// CreateTarget stores a target for a unit and returns it. Only an admin or a unit_admin
// managing the unit may. It returns errs.ErrForbidden for other callers, an error wrapping
// errs.ErrInvalid (with per-field reasons) for bad input, errs.ErrNotFound wrapped in a
// field error for an unknown unit, course or quiz.
func (s *Service) CreateTarget(ctx context.Context, actor accounts.Principal, in NewTarget) (Target, error) {
	if !isOfficer(actor) {
		return Target{}, fmt.Errorf("only personnel officers set targets: %w", errs.ErrForbidden)
	}
	now := s.now()
	var f errs.Fields
	title := strings.TrimSpace(in.Title)
	f.Check(title == "", "title", "is required")
	f.Check(utf8.RuneCountInString(title) > maxTitle, "title", fmt.Sprintf("must be at most %d characters", maxTitle))
	f.Check(!in.Metric.Valid(), "metric", "must be completed, passed or attended")
	f.Check(in.Percent <= 0 || in.Percent > 100, "percent", "must be more than 0 and at most 100")
	f.Check(in.Metric == MetricAttended && in.MinMinutes <= 0, "min_minutes", "must be a positive number of minutes for metric attended")
	f.Check(in.Metric != MetricAttended && in.MinMinutes != 0, "min_minutes", "applies only to metric attended")
	f.Check(in.Metric != MetricPassed && in.QuizID != "", "quiz_id", "applies only to metric passed")
	f.Check(in.Metric == MetricPassed && s.quiz == nil, "metric", "quiz results are not available on this server")
	f.Check(in.Metric == MetricAttended && s.live == nil, "metric", "live attendance is not available on this server")
	// A due date in the past is allowed: officers also record targets they are judged on
	// after the fact ("100% by 31/12/2025"), which then show as met or overdue.
	dueAt, err := ParseDue(in.Due)
	if err != nil {
		f.Add("due", "must be a date like 2025-12-31")
	} else if y := dueAt.In(vnZone).Year(); y < minPlanYear || y > maxPlanYear {
		f.Add("due", fmt.Sprintf("must be between %d and %d", minPlanYear, maxPlanYear))
	}
	positions, reason := cleanPositions(in.Positions)
	if reason != "" {
		f.Add("positions", reason)
	}
	f.Check(strings.TrimSpace(in.UnitID) == "", "unit_id", "is required")
	f.Check(strings.TrimSpace(in.CourseID) == "", "course_id", "is required")
	if err := f.Err(); err != nil {
		return Target{}, err
	}
	unit, err := s.dir.FindUnitByID(ctx, in.UnitID)
	if err != nil {
		return Target{}, fieldOrErr(err, "unit_id", "no such unit")
	}
	if !accounts.Manages(actor.User, unit) {
		return Target{}, fmt.Errorf("you do not manage unit %s: %w", unit.Code, errs.ErrForbidden)
	}
	course, err := s.learn.FindCourse(ctx, in.CourseID)
	if err != nil {
		return Target{}, fieldOrErr(err, "course_id", "no such course")
	}
	if in.QuizID != "" {
		res, err := s.quiz.CourseQuizResults(ctx, course.ID)
		if err != nil {
			return Target{}, fmt.Errorf("reports: quizzes of course %s: %w", course.ID, err)
		}
		if !slices.ContainsFunc(res.Quizzes, func(q QuizInfo) bool { return q.ID == in.QuizID }) {
			return Target{}, errs.Field("quiz_id", "is not a quiz of this course")
		}
	}
	t := Target{
		ID: ids.New(), UnitID: unit.ID, UnitName: unit.Name, Title: title, Metric: in.Metric,
		CourseID: course.ID, CourseTitle: course.Title, QuizID: in.QuizID, MinMinutes: in.MinMinutes,
		Positions: positions, Percent: in.Percent, Due: strings.TrimSpace(in.Due), DueAt: dueAt,
		CreatedBy: actor.User.ID, CreatedAt: now, UpdatedAt: now,
	}
	if _, err := s.targets.InsertOne(ctx, t); err != nil {
		return Target{}, fmt.Errorf("reports: insert target: %w", dbErr(err))
	}
	return t, nil
}

// cleanPositions trims, de-duplicates (ignoring case and diacritics) and checks positions.
func cleanPositions(in []string) ([]string, string) {
	out := []string{}
	seen := map[string]bool{}
	for _, p := range in {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, "must not contain empty positions"
		}
		if utf8.RuneCountInString(p) > maxPosition {
			return nil, fmt.Sprintf("each must be at most %d characters", maxPosition)
		}
		k := textfold.Fold(p)
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	if len(out) > maxPositions {
		return nil, fmt.Sprintf("must list at most %d positions", maxPositions)
	}
	return out, ""
}

// fieldOrErr turns a not-found from another domain into a field error of the input, and
// passes other errors on.
func fieldOrErr(err error, field, reason string) error {
	if errors.Is(err, errs.ErrNotFound) {
		return errs.Field(field, reason)
	}
	return err
}

func (s *Service) findTarget(ctx context.Context, id string) (Target, error) {
	if !ids.Valid(id) {
		return Target{}, fmt.Errorf("target %q: %w", id, errs.ErrNotFound)
	}
	var t Target
	err := s.targets.FindOne(ctx, bson.M{"_id": id}).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Target{}, fmt.Errorf("target %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return Target{}, fmt.Errorf("reports: find target: %w", dbErr(err))
	}
	return t.normalized(), nil
}

// normalized makes an empty Positions list [] rather than null in JSON.
func (t Target) normalized() Target {
	if t.Positions == nil {
		t.Positions = []string{}
	}
	return t
}

// visibleTarget loads a target and checks that the caller may see it: an admin sees all;
// a unit_admin sees a target set on a unit they manage or on a unit above one they manage
// (it covers their units). It returns the target, every unit, and the caller's scope;
// errs.ErrForbidden for callers who are not officers and errs.ErrNotFound for a target
// that does not exist or may not be seen.
func (s *Service) visibleTarget(ctx context.Context, actor accounts.Principal, id string) (Target, *directory, scope, error) {
	if !isOfficer(actor) {
		return Target{}, nil, scope{}, fmt.Errorf("reports are for personnel officers: %w", errs.ErrForbidden)
	}
	t, err := s.findTarget(ctx, id)
	if err != nil {
		return Target{}, nil, scope{}, err
	}
	d, _, err := s.directory(ctx)
	if err != nil {
		return Target{}, nil, scope{}, err
	}
	sc, err := scopeOf(actor, d.units)
	if err != nil {
		return Target{}, nil, scope{}, err
	}
	if !sc.all && !sc.has(t.UnitID) && s.coveredRoot(actor, t.UnitID, d.byID) == "" {
		return Target{}, nil, scope{}, fmt.Errorf("target %s: %w", id, errs.ErrNotFound)
	}
	return t, d, sc, nil
}

// coveredRoot returns the first of a unit_admin's scope roots that lies under (or is)
// unitID, or "".
func (s *Service) coveredRoot(actor accounts.Principal, unitID string, byID map[string]accounts.Unit) string {
	roots := slices.Clone(adminRoots(actor.User))
	slices.Sort(roots)
	for _, r := range roots {
		if u, ok := byID[r]; ok && covers(unitID, u) {
			return r
		}
	}
	return ""
}

// GetTarget returns a target the caller may see (see visibleTarget for the rule). It
// returns errs.ErrForbidden for callers who are not officers and errs.ErrNotFound for
// an unknown or hidden target.
func (s *Service) GetTarget(ctx context.Context, actor accounts.Principal, id string) (Target, error) {
	t, _, _, err := s.visibleTarget(ctx, actor, id)
	return t, err
}

// ListTargets returns the targets the caller may see, newest first. It returns
// errs.ErrForbidden for callers who are not officers and errs.ErrNotFound for a filter
// unit that does not exist or is outside the caller's scope.
func (s *Service) ListTargets(ctx context.Context, actor accounts.Principal, f TargetFilter) (accounts.Page[Target], error) {
	if !isOfficer(actor) {
		return accounts.Page[Target]{}, fmt.Errorf("reports are for personnel officers: %w", errs.ErrForbidden)
	}
	d, _, err := s.directory(ctx)
	if err != nil {
		return accounts.Page[Target]{}, err
	}
	sc, err := scopeOf(actor, d.units)
	if err != nil {
		return accounts.Page[Target]{}, err
	}
	byID := d.byID
	var filter bson.M
	switch {
	case f.UnitID != "":
		u, ok := byID[f.UnitID]
		if !ok || !sc.has(u.ID) {
			return accounts.Page[Target]{}, fmt.Errorf("unit %q: %w", f.UnitID, errs.ErrNotFound)
		}
		filter = bson.M{"unit_id": bson.M{"$in": append(slices.Clone(u.Path), u.ID)}}
	case sc.all:
		filter = bson.M{}
	default:
		visible := map[string]bool{}
		for id := range sc.managed {
			visible[id] = true
		}
		for _, r := range adminRoots(actor.User) {
			if u, ok := byID[r]; ok {
				for _, a := range u.Path {
					visible[a] = true
				}
			}
		}
		list := make([]string, 0, len(visible))
		for id := range visible {
			list = append(list, id)
		}
		filter = bson.M{"unit_id": bson.M{"$in": list}}
	}
	limit, offset := clip(f.Limit, f.Offset)
	total, err := s.targets.CountDocuments(ctx, filter)
	if err != nil {
		return accounts.Page[Target]{}, fmt.Errorf("reports: count targets: %w", dbErr(err))
	}
	cur, err := s.targets.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: 1}}).
		SetSkip(int64(offset)).SetLimit(int64(limit)))
	if err != nil {
		return accounts.Page[Target]{}, fmt.Errorf("reports: find targets: %w", dbErr(err))
	}
	items := []Target{}
	if err := cur.All(ctx, &items); err != nil {
		return accounts.Page[Target]{}, fmt.Errorf("reports: read targets: %w", dbErr(err))
	}
	for i := range items {
		items[i] = items[i].normalized()
	}
	return accounts.Page[Target]{Items: items, Total: int(total)}, nil
}

// DeleteTarget removes a target. Only an admin or a unit_admin managing the target's own
// unit may. It returns errs.ErrNotFound for an unknown or hidden target and
// errs.ErrForbidden when the caller only sees it as covering their units.
func (s *Service) DeleteTarget(ctx context.Context, actor accounts.Principal, id string) error {
	t, _, sc, err := s.visibleTarget(ctx, actor, id)
	if err != nil {
		return err
	}
	if !sc.has(t.UnitID) {
		return fmt.Errorf("target %s was set by a unit above yours: %w", id, errs.ErrForbidden)
	}
	if _, err := s.targets.DeleteOne(ctx, bson.M{"_id": t.ID}); err != nil {
		return fmt.Errorf("reports: delete target: %w", dbErr(err))
	}
	return nil
}

// statusRoot picks the unit a status is rooted at (see StatusQuery.UnitID) and checks the
// caller may see it; errs.ErrNotFound when the unit is unknown, outside the target or
// outside the caller's scope.
func (s *Service) statusRoot(actor accounts.Principal, t Target, byID map[string]accounts.Unit, sc scope, unitID string) (string, error) {
	if unitID != "" {
		u, ok := byID[unitID]
		if !ok || !covers(t.UnitID, u) || !sc.has(u.ID) {
			return "", fmt.Errorf("unit %q under this target: %w", unitID, errs.ErrNotFound)
		}
		return u.ID, nil
	}
	if _, ok := byID[t.UnitID]; !ok {
		return "", fmt.Errorf("the unit of target %s no longer exists: %w", t.ID, errs.ErrNotFound)
	}
	if sc.has(t.UnitID) {
		return t.UnitID, nil
	}
	if r := s.coveredRoot(actor, t.UnitID, byID); r != "" {
		return r, nil
	}
	return "", fmt.Errorf("target %s: %w", t.ID, errs.ErrNotFound)
}

// people returns the people a target counts in tree, with whether each is done: the
// active users whose unit (now) lies in the tree and whose position matches. It also
// returns when the metric data was read.
func (s *Service) people(ctx context.Context, t Target, tree *unitTree, users []accounts.User) ([]counted, time.Time, error) {
	m, at, err := s.metric(ctx, t)
	if err != nil {
		return nil, time.Time{}, err
	}
	set := foldPositions(t.Positions)
	out := make([]counted, 0, len(users))
	for i := range users {
		u := &users[i]
		if !u.Active || !tree.contains(u.UnitID) || !positionCounts(set, u.Position) {
			continue
		}
		out = append(out, counted{user: u, done: m.done[u.ID], progress: m.progress[u.ID]})
	}
	return out, at, nil
}

// doneSet returns who is done under a target's metric, and each learner's progress figure.
func (s *Service) doneSet(ctx context.Context, t Target) (map[string]bool, map[string]float64, error) {
	done := map[string]bool{}
	progress := map[string]float64{}
	switch t.Metric {
	case MetricCompleted:
		recs, err := s.learn.CourseEnrolments(ctx, t.CourseID)
		if err != nil {
			return nil, nil, fmt.Errorf("reports: enrolments of course %s: %w", t.CourseID, err)
		}
		for _, r := range recs {
			if r.Completed {
				done[r.UserID] = true
			}
			progress[r.UserID] = max(progress[r.UserID], float64(r.Percent))
		}
	case MetricPassed:
		if s.quiz == nil {
			return nil, nil, fmt.Errorf("reports: quiz results are not available: %w", errs.ErrUnavailable)
		}
		res, err := s.quiz.CourseQuizResults(ctx, t.CourseID)
		if err != nil {
			return nil, nil, fmt.Errorf("reports: quiz results of course %s: %w", t.CourseID, err)
		}
		done = PassedSet(res, t.QuizID)
		for _, r := range res.Results {
			if t.QuizID == "" || r.QuizID == t.QuizID {
				progress[r.UserID] = max(progress[r.UserID], r.BestPercent)
			}
		}
	case MetricAttended:
		if s.live == nil {
			return nil, nil, fmt.Errorf("reports: live attendance is not available: %w", errs.ErrUnavailable)
		}
		mins, err := s.live.CourseAttendanceMinutes(ctx, t.CourseID)
		if err != nil {
			return nil, nil, fmt.Errorf("reports: attendance of course %s: %w", t.CourseID, err)
		}
		for u, m := range mins {
			progress[u] = float64(m)
			if m >= t.MinMinutes {
				done[u] = true
			}
		}
	default:
		return nil, nil, fmt.Errorf("reports: target %s has unknown metric %q", t.ID, t.Metric)
	}
	return done, progress, nil
}

// PassedSet returns the learners who passed under metric passed: the quiz quizID when it
// is set; otherwise every required quiz of the course, or, when the course requires none,
// any of its quizzes.
func PassedSet(res CourseQuizResults, quizID string) map[string]bool {
	out := map[string]bool{}
	passed := map[string]map[string]bool{} // user → quizzes passed
	for _, r := range res.Results {
		if r.Passed {
			if passed[r.UserID] == nil {
				passed[r.UserID] = map[string]bool{}
			}
			passed[r.UserID][r.QuizID] = true
		}
	}
	var required []string
	for _, q := range res.Quizzes {
		if q.Required {
			required = append(required, q.ID)
		}
	}
	for user, qs := range passed {
		switch {
		case quizID != "":
			out[user] = qs[quizID]
		case len(required) == 0:
			out[user] = len(qs) > 0
		default:
			all := true
			for _, q := range required {
				all = all && qs[q]
			}
			out[user] = all
		}
		if !out[user] {
			delete(out, user)
		}
	}
	return out
}

// computed is a target's roll-up with what it was made from.
type computed struct {
	target Target
	tree   *unitTree
	people []counted
	root   *StatusNode
	asOf   time.Time // when the oldest data it was made from was read
}

// compute loads and rolls up a target at the unit picked by statusRoot. It reads the units
// once, the active users of the subtree once, and the metric's data (enrolments, quiz
// results or attendance of the target's course) once, then counts in memory.
func (s *Service) compute(ctx context.Context, actor accounts.Principal, id, unitID string) (computed, error) {
	t, d, sc, err := s.visibleTarget(ctx, actor, id)
	if err != nil {
		return computed{}, err
	}
	dirAt := d.at
	rootID, err := s.statusRoot(actor, t, d.byID, sc, unitID)
	if err != nil {
		return computed{}, err
	}
	tree, ok := newUnitTree(d.units, rootID)
	if !ok {
		return computed{}, fmt.Errorf("unit %s: %w", rootID, errs.ErrNotFound)
	}
	people, at, err := s.people(ctx, t, tree, d.users)
	if err != nil {
		return computed{}, err
	}
	now := s.now()
	root := rollUp(tree, people, t.Percent, t.CreatedAt, t.DueAt, now)
	return computed{target: t, tree: tree, people: people, root: root, asOf: minTime(now, dirAt, at)}, nil
}

// TargetStatus returns a target's status rolled up over the unit tree: for every unit,
// the people counted, how many are done, the percent, and the pace (see OnPace). People
// are counted in the unit they are in now, only while active, and only when their
// position matches the target's positions (if any). It returns errs.ErrForbidden for
// callers who are not officers and errs.ErrNotFound for an unknown or hidden target or
// unit.
func (s *Service) TargetStatus(ctx context.Context, actor accounts.Principal, id string, q StatusQuery) (TargetStatus, error) {
	c, err := s.compute(ctx, actor, id, q.UnitID)
	if err != nil {
		return TargetStatus{}, err
	}
	if q.Depth > 0 {
		prune(c.root, q.Depth)
	}
	return TargetStatus{StatusNode: *c.root, Target: c.target, AsOf: c.asOf}, nil
}

// PendingPeople lists the people a target counts in a unit and below it who are not done
// yet, by unit (tree order) and then name. Errors as TargetStatus.
func (s *Service) PendingPeople(ctx context.Context, actor accounts.Principal, id string, q PendingQuery) (accounts.Page[Person], error) {
	c, err := s.compute(ctx, actor, id, q.UnitID)
	if err != nil {
		return accounts.Page[Person]{}, err
	}
	pos := make(map[string]int, len(c.tree.order))
	for i, uid := range c.tree.order {
		pos[uid] = i
	}
	var pending []counted
	for _, p := range c.people {
		if !p.done {
			pending = append(pending, p)
		}
	}
	slices.SortFunc(pending, func(a, b counted) int {
		if d := pos[a.user.UnitID] - pos[b.user.UnitID]; d != 0 {
			return d
		}
		if d := strings.Compare(a.user.NameFold, b.user.NameFold); d != 0 {
			return d
		}
		if d := strings.Compare(textfold.Fold(a.user.FullName), textfold.Fold(b.user.FullName)); d != 0 {
			return d
		}
		return strings.Compare(a.user.ID, b.user.ID)
	})
	limit, offset := clip(q.Limit, q.Offset)
	items := []Person{}
	for i := offset; i < len(pending) && i < offset+limit; i++ {
		p := pending[i]
		items = append(items, Person{
			UserID: p.user.ID, FullName: p.user.FullName, Username: p.user.Username,
			UnitID: p.user.UnitID, UnitName: c.tree.units[p.user.UnitID].Name,
			Position: p.user.Position, Progress: p.progress,
		})
	}
	return accounts.Page[Person]{Items: items, Total: len(pending)}, nil
}

// UnitDashboard returns every target that applies to a unit (set on it or on a unit above
// it), each with the unit's figures and one level of sub-units. Targets set on units
// below it are on those units' dashboards. It returns errs.ErrForbidden for callers who
// are not officers and errs.ErrNotFound for a unit that does not exist or is outside the
// caller's scope.
func (s *Service) UnitDashboard(ctx context.Context, actor accounts.Principal, unitID string) (Dashboard, error) {
	if !isOfficer(actor) {
		return Dashboard{}, fmt.Errorf("reports are for personnel officers: %w", errs.ErrForbidden)
	}
	dir, dirAt, err := s.directory(ctx)
	if err != nil {
		return Dashboard{}, err
	}
	sc, err := scopeOf(actor, dir.units)
	if err != nil {
		return Dashboard{}, err
	}
	tree, ok := newUnitTree(dir.units, unitID)
	if !ok || !sc.has(unitID) {
		return Dashboard{}, fmt.Errorf("unit %q: %w", unitID, errs.ErrNotFound)
	}
	cur, err := s.targets.Find(ctx, bson.M{"unit_id": bson.M{"$in": append(slices.Clone(tree.root.Path), unitID)}},
		options.Find().SetSort(bson.D{{Key: "due_at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return Dashboard{}, fmt.Errorf("reports: find targets: %w", dbErr(err))
	}
	var targets []Target
	if err := cur.All(ctx, &targets); err != nil {
		return Dashboard{}, fmt.Errorf("reports: read targets: %w", dbErr(err))
	}
	now := s.now()
	d := Dashboard{Unit: tree.ref(unitID), Targets: []TargetSummary{}, AsOf: minTime(now, dirAt)}
	for _, t := range targets {
		t = t.normalized()
		people, at, err := s.people(ctx, t, tree, dir.users)
		if err != nil {
			return Dashboard{}, err
		}
		d.AsOf = minTime(d.AsOf, at)
		root := rollUp(tree, people, t.Percent, t.CreatedAt, t.DueAt, now)
		prune(root, 1)
		d.Targets = append(d.Targets, TargetSummary{Target: t, Status: root})
	}
	return d, nil
}

// minTime returns the earliest of ts.
func minTime(ts ...time.Time) time.Time {
	out := ts[0]
	for _, t := range ts[1:] {
		if t.Before(out) {
			out = t
		}
	}
	return out
}
