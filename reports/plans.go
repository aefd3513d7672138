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
	"hoctap/internal/database"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

// Limits on plans.
const (
	maxPlanItems = 200
	maxPlanned   = 1_000_000
	minPlanYear  = 2000
	maxPlanYear  = 2100
)

// PlanFilter selects plans for ListPlans.
type PlanFilter struct {
	UnitID string // plans of this unit and every unit below it
	Year   int
	Limit  int // default 50, at most 500
	Offset int
}

// checkPlanInput validates in and resolves its items' courses and classes.
func (s *Service) checkPlanInput(ctx context.Context, in PlanInput) (string, []PlanItem, error) {
	var f errs.Fields
	title := strings.TrimSpace(in.Title)
	f.Check(title == "", "title", "is required")
	f.Check(utf8.RuneCountInString(title) > maxTitle, "title", fmt.Sprintf("must be at most %d characters", maxTitle))
	f.Check(in.Year < minPlanYear || in.Year > maxPlanYear, "year", fmt.Sprintf("must be between %d and %d", minPlanYear, maxPlanYear))
	f.Check(len(in.Items) == 0, "items", "must list at least one class or course")
	f.Check(len(in.Items) > maxPlanItems, "items", fmt.Sprintf("must list at most %d lines", maxPlanItems))
	for i, it := range in.Items {
		field := fmt.Sprintf("items[%d]", i)
		f.Check(strings.TrimSpace(it.CourseID) == "", field+".course_id", "is required")
		f.Check(it.Planned <= 0 || it.Planned > maxPlanned, field+".planned", fmt.Sprintf("must be between 1 and %d", maxPlanned))
	}
	if err := f.Err(); err != nil {
		return "", nil, err
	}
	items := make([]PlanItem, 0, len(in.Items))
	seen := map[string]bool{}
	for i, it := range in.Items {
		field := fmt.Sprintf("items[%d]", i)
		key := it.CourseID + "/" + it.ClassID
		if seen[key] {
			f.Add(field, "repeats an earlier line")
			continue
		}
		seen[key] = true
		course, err := s.learn.FindCourse(ctx, it.CourseID)
		if errors.Is(err, errs.ErrNotFound) {
			f.Add(field+".course_id", "no such course")
			continue
		} else if err != nil {
			return "", nil, fmt.Errorf("reports: course %s: %w", it.CourseID, err)
		}
		item := PlanItem{ID: ids.New(), CourseID: course.ID, Title: course.Title, Category: course.Category,
			CategoryLabel: course.CategoryLabel, Planned: it.Planned}
		if it.ClassID != "" {
			class, err := s.learn.FindClass(ctx, it.ClassID)
			switch {
			case errors.Is(err, errs.ErrNotFound):
				f.Add(field+".class_id", "no such class")
				continue
			case err != nil:
				return "", nil, fmt.Errorf("reports: class %s: %w", it.ClassID, err)
			case class.CourseID != course.ID:
				f.Add(field+".class_id", "is not a class of this course")
				continue
			}
			item.ClassID = class.ID
			item.Title = course.Title + " – " + class.Name
		}
		items = append(items, item)
	}
	if err := f.Err(); err != nil {
		return "", nil, err
	}
	return title, items, nil
}

// CreatePlan stores a unit's training plan for a year. An admin or a unit_admin managing
// the unit may. It returns errs.ErrForbidden for other callers, an invalid error naming
// the fields, and errs.ErrConflict when the unit already has a plan for that year.
func (s *Service) CreatePlan(ctx context.Context, actor accounts.Principal, in PlanInput) (Plan, error) {
	if !isOfficer(actor) {
		return Plan{}, fmt.Errorf("only personnel officers make plans: %w", errs.ErrForbidden)
	}
	if strings.TrimSpace(in.UnitID) == "" {
		return Plan{}, errs.Field("unit_id", "is required")
	}
	unit, err := s.dir.FindUnitByID(ctx, in.UnitID)
	if err != nil {
		return Plan{}, fieldOrErr(err, "unit_id", "no such unit")
	}
	if !accounts.Manages(actor.User, unit) {
		return Plan{}, fmt.Errorf("you do not manage unit %s: %w", unit.Code, errs.ErrForbidden)
	}
	title, items, err := s.checkPlanInput(ctx, in)
	if err != nil {
		return Plan{}, err
	}
	now := s.now()
	p := Plan{ID: ids.New(), UnitID: unit.ID, UnitName: unit.Name, Year: in.Year, Title: title, Items: items,
		CreatedBy: actor.User.ID, CreatedAt: now, UpdatedAt: now}
	if _, err := s.plans.InsertOne(ctx, p); err != nil {
		if database.IsDuplicateKey(err) {
			return Plan{}, fmt.Errorf("unit %s already has a plan for %d: %w", unit.Code, in.Year, errs.ErrConflict)
		}
		return Plan{}, fmt.Errorf("reports: insert plan: %w", dbErr(err))
	}
	return p, nil
}

// visiblePlan loads a plan the caller manages (admin: any).
func (s *Service) visiblePlan(ctx context.Context, actor accounts.Principal, id string) (Plan, *directory, error) {
	if !isOfficer(actor) {
		return Plan{}, nil, fmt.Errorf("plans are for personnel officers: %w", errs.ErrForbidden)
	}
	var p Plan
	if !ids.Valid(id) {
		return Plan{}, nil, fmt.Errorf("plan %q: %w", id, errs.ErrNotFound)
	}
	err := s.plans.FindOne(ctx, bson.M{"_id": id}).Decode(&p)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Plan{}, nil, fmt.Errorf("plan %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return Plan{}, nil, fmt.Errorf("reports: find plan: %w", dbErr(err))
	}
	d, _, err := s.directory(ctx)
	if err != nil {
		return Plan{}, nil, err
	}
	u, ok := d.byID[p.UnitID]
	if !ok || !accounts.Manages(actor.User, u) {
		return Plan{}, nil, fmt.Errorf("plan %s: %w", id, errs.ErrNotFound)
	}
	return p, d, nil
}

// GetPlan returns a plan of a unit the caller manages; errs.ErrForbidden for callers who
// are not officers, errs.ErrNotFound for an unknown or hidden plan.
func (s *Service) GetPlan(ctx context.Context, actor accounts.Principal, id string) (Plan, error) {
	p, _, err := s.visiblePlan(ctx, actor, id)
	return p, err
}

// UpdatePlan replaces a plan's title and lines; its unit and year stay. Errors as
// GetPlan, plus an invalid error naming the fields (also when unit_id or year differ).
func (s *Service) UpdatePlan(ctx context.Context, actor accounts.Principal, id string, in PlanInput) (Plan, error) {
	p, _, err := s.visiblePlan(ctx, actor, id)
	if err != nil {
		return Plan{}, err
	}
	if in.UnitID != "" && in.UnitID != p.UnitID {
		return Plan{}, errs.Field("unit_id", "cannot change; make a plan for the other unit")
	}
	if in.Year == 0 {
		in.Year = p.Year
	}
	if in.Year != p.Year {
		return Plan{}, errs.Field("year", "cannot change; make a plan for the other year")
	}
	title, items, err := s.checkPlanInput(ctx, in)
	if err != nil {
		return Plan{}, err
	}
	now := s.now()
	if _, err := s.plans.UpdateOne(ctx, bson.M{"_id": p.ID}, bson.M{"$set": bson.M{"title": title, "items": items, "updated_at": now}}); err != nil {
		return Plan{}, fmt.Errorf("reports: update plan: %w", dbErr(err))
	}
	p.Title, p.Items, p.UpdatedAt = title, items, now
	return p, nil
}

// DeletePlan removes a plan. Errors as GetPlan.
func (s *Service) DeletePlan(ctx context.Context, actor accounts.Principal, id string) error {
	p, _, err := s.visiblePlan(ctx, actor, id)
	if err != nil {
		return err
	}
	if _, err := s.plans.DeleteOne(ctx, bson.M{"_id": p.ID}); err != nil {
		return fmt.Errorf("reports: delete plan: %w", dbErr(err))
	}
	return nil
}

// ListPlans returns the plans of units the caller manages, newest year first. It returns
// errs.ErrForbidden for callers who are not officers and errs.ErrNotFound for a filter
// unit outside their scope.
func (s *Service) ListPlans(ctx context.Context, actor accounts.Principal, f PlanFilter) (accounts.Page[Plan], error) {
	if !isOfficer(actor) {
		return accounts.Page[Plan]{}, fmt.Errorf("plans are for personnel officers: %w", errs.ErrForbidden)
	}
	d, _, err := s.directory(ctx)
	if err != nil {
		return accounts.Page[Plan]{}, err
	}
	sc, err := scopeOf(actor, d.units)
	if err != nil {
		return accounts.Page[Plan]{}, err
	}
	filter := bson.M{}
	if f.Year != 0 {
		filter["year"] = f.Year
	}
	if f.UnitID != "" {
		u, ok := d.byID[f.UnitID]
		if !ok || !sc.has(u.ID) {
			return accounts.Page[Plan]{}, fmt.Errorf("unit %q: %w", f.UnitID, errs.ErrNotFound)
		}
		var in []string
		for _, x := range d.units {
			if covers(u.ID, x) {
				in = append(in, x.ID)
			}
		}
		filter["unit_id"] = bson.M{"$in": in}
	} else if !sc.all {
		in := make([]string, 0, len(sc.managed))
		for id := range sc.managed {
			in = append(in, id)
		}
		filter["unit_id"] = bson.M{"$in": in}
	}
	limit, offset := clip(f.Limit, f.Offset)
	total, err := s.plans.CountDocuments(ctx, filter)
	if err != nil {
		return accounts.Page[Plan]{}, fmt.Errorf("reports: count plans: %w", dbErr(err))
	}
	cur, err := s.plans.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "year", Value: -1}, {Key: "unit_name", Value: 1}, {Key: "_id", Value: 1}}).
		SetSkip(int64(offset)).SetLimit(int64(limit)))
	if err != nil {
		return accounts.Page[Plan]{}, fmt.Errorf("reports: find plans: %w", dbErr(err))
	}
	items := []Plan{}
	if err := cur.All(ctx, &items); err != nil {
		return accounts.Page[Plan]{}, fmt.Errorf("reports: read plans: %w", dbErr(err))
	}
	return accounts.Page[Plan]{Items: items, Total: int(total)}, nil
}

// yearBounds returns the instants a Vietnamese calendar year starts and ends.
func yearBounds(year int) (time.Time, time.Time) {
	return time.Date(year, 1, 1, 0, 0, 0, 0, vnZone).UTC(), time.Date(year+1, 1, 1, 0, 0, 0, 0, vnZone).UTC()
}

func (f *PlanFigures) finish() {
	f.EnrolledPercent = percentOf(f.Enrolled, f.Planned)
	f.CompletedPercent = percentOf(f.Completed, f.Planned)
}

func (f *PlanFigures) add(g PlanFigures) {
	f.Planned += g.Planned
	f.Enrolled += g.Enrolled
	f.Completed += g.Completed
}

// PlanReport compares a plan with the enrolments and completions of the learners now in
// the plan's unit and below it (active users, counted in their current unit, as for
// targets): per line, per content area, and per direct sub-unit. A line without a class
// counts every class of its course that starts in the plan's year. Errors as GetPlan.
func (s *Service) PlanReport(ctx context.Context, actor accounts.Principal, id string) (PlanReport, error) {
	p, d, err := s.visiblePlan(ctx, actor, id)
	if err != nil {
		return PlanReport{}, err
	}
	tree, ok := newUnitTree(d.units, p.UnitID)
	if !ok {
		return PlanReport{}, fmt.Errorf("unit of plan %s: %w", p.ID, errs.ErrNotFound)
	}
	unitOf := map[string]string{} // user → current unit, for users in the tree
	for _, u := range d.users {
		if tree.contains(u.UnitID) {
			unitOf[u.ID] = u.UnitID
		}
	}
	// The branch (direct child of the plan unit, or the plan unit itself) each unit is in.
	branch := map[string]string{}
	for _, id := range tree.order {
		u := tree.units[id]
		switch {
		case id == tree.root.ID:
			branch[id] = id
		case u.ParentID == tree.root.ID:
			branch[id] = id
		default:
			branch[id] = u.Path[len(tree.root.Path)+1]
		}
	}
	from, to := yearBounds(p.Year)
	rep := PlanReport{Plan: p, Items: []PlanItemReport{}, ByCategory: []PlanCategoryReport{}, ByUnit: []PlanUnitReport{}, AsOf: d.at}
	byBranch := map[string]*PlanFigures{}
	cats := map[string]*PlanCategoryReport{}
	var catOrder []string
	for _, it := range p.Items {
		var recs []EnrolmentRecord
		if it.ClassID != "" {
			recs, err = s.learn.ClassEnrolments(ctx, it.ClassID)
		} else {
			recs, err = s.learn.CourseEnrolments(ctx, it.CourseID)
		}
		if err != nil {
			return PlanReport{}, fmt.Errorf("reports: enrolments of plan line %s: %w", it.Title, err)
		}
		enrolled, completed := map[string]bool{}, map[string]bool{}
		for _, r := range recs {
			if _, in := unitOf[r.UserID]; !in {
				continue
			}
			if it.ClassID == "" && (r.ClassStarts.Before(from) || !r.ClassStarts.Before(to)) {
				continue
			}
			enrolled[r.UserID] = true
			if r.Completed {
				completed[r.UserID] = true
			}
		}
		fig := PlanFigures{Planned: it.Planned, Enrolled: len(enrolled), Completed: len(completed)}
		fig.finish()
		rep.Items = append(rep.Items, PlanItemReport{Item: it, PlanFigures: fig})
		rep.Total.add(fig)
		c, ok := cats[it.Category]
		if !ok {
			c = &PlanCategoryReport{Category: it.Category, CategoryLabel: it.CategoryLabel}
			cats[it.Category] = c
			catOrder = append(catOrder, it.Category)
		}
		c.add(fig)
		for u := range enrolled {
			b := branch[unitOf[u]]
			if byBranch[b] == nil {
				byBranch[b] = &PlanFigures{}
			}
			byBranch[b].Enrolled++
			if completed[u] {
				byBranch[b].Completed++
			}
		}
	}
	rep.Total.finish()
	rep.Summary = PlanSummary(rep.Total)
	slices.Sort(catOrder)
	for _, k := range catOrder {
		c := cats[k]
		c.finish()
		rep.ByCategory = append(rep.ByCategory, *c)
	}
	planned, err := s.plannedByUnit(ctx, p, tree)
	if err != nil {
		return PlanReport{}, err
	}
	root := PlanUnitReport{Unit: tree.ref(tree.root.ID), PlanFigures: rep.Total}
	rep.ByUnit = append(rep.ByUnit, root)
	rows := append([]string{tree.root.ID}, tree.children[tree.root.ID]...)
	for _, id := range rows {
		fig := PlanFigures{}
		if b := byBranch[id]; b != nil {
			fig = *b
		}
		depth := 1
		if id == tree.root.ID {
			// The plan unit's own staff, outside every sub-unit.
			fig.Planned = 0
			if fig.Enrolled == 0 && len(tree.children[tree.root.ID]) > 0 {
				continue
			}
		} else {
			fig.Planned = planned[id]
		}
		fig.finish()
		ref := tree.ref(id)
		if id == tree.root.ID {
			ref.Name += " (trực thuộc)"
		}
		rep.ByUnit = append(rep.ByUnit, PlanUnitReport{Unit: ref, Depth: depth, PlanFigures: fig})
	}
	return rep, nil
}

// plannedByUnit returns, for each direct sub-unit of the plan's unit, the learners
// planned for the plan's year: its own plan's total when it has one, otherwise the sum
// of its sub-units' (recursively).
func (s *Service) plannedByUnit(ctx context.Context, p Plan, tree *unitTree) (map[string]int, error) {
	cur, err := s.plans.Find(ctx, bson.M{"year": p.Year, "unit_id": bson.M{"$in": tree.ids()}},
		options.Find().SetProjection(bson.M{"unit_id": 1, "items.planned": 1}))
	if err != nil {
		return nil, fmt.Errorf("reports: find plans: %w", dbErr(err))
	}
	var plans []Plan
	if err := cur.All(ctx, &plans); err != nil {
		return nil, fmt.Errorf("reports: read plans: %w", dbErr(err))
	}
	own := map[string]int{}
	has := map[string]bool{}
	for _, pl := range plans {
		has[pl.UnitID] = true
		for _, it := range pl.Items {
			own[pl.UnitID] += it.Planned
		}
	}
	total := map[string]int{}
	for i := len(tree.order) - 1; i >= 0; i-- { // children before parents
		id := tree.order[i]
		if has[id] {
			total[id] = own[id]
			continue
		}
		for _, kid := range tree.children[id] {
			total[id] += total[kid]
		}
	}
	return total, nil
}
