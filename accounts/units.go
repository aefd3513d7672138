package accounts

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/internal/database"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
	"hoctap/internal/textfold"
)

// NewUnit is the input of CreateUnit. An empty ParentID makes a root unit.
type NewUnit struct {
	Name     string `json:"name"`
	Code     string `json:"code"`
	ParentID string `json:"parent_id"`
}

// UnitPatch is the input of UpdateUnit; nil fields stay as they are. ParentID set to ""
// makes the unit a root.
type UnitPatch struct {
	Name     *string `json:"name"`
	Code     *string `json:"code"`
	ParentID *string `json:"parent_id"`
}

// UnitFilter selects units for ListUnits. Empty fields do not filter.
type UnitFilter struct {
	ParentID  string // direct children of this unit
	RootsOnly bool   // only units without a parent
	Q         string // matches the name ignoring case and diacritics, or the code
	Limit     int    // default 50, at most 500
	Offset    int
}

// Page size limits of the list methods.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

func pageBounds(limit, offset int) (int, int) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	return limit, max(offset, 0)
}

// FindUnitByID returns one unit. It returns errs.ErrNotFound when there is none. It does
// no access check: it is for other domains, not for answering a caller directly.
func (s *Service) FindUnitByID(ctx context.Context, id string) (Unit, error) {
	if !ids.Valid(id) {
		return Unit{}, fmt.Errorf("unit %s: %w", quote(id), errs.ErrNotFound)
	}
	var u Unit
	if err := s.units.FindOne(ctx, bson.M{"_id": id}).Decode(&u); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return Unit{}, fmt.Errorf("unit %s: %w", id, errs.ErrNotFound)
		}
		return Unit{}, fmt.Errorf("accounts: find unit %s: %w", id, dbErr(err))
	}
	return u, nil
}

// CreateUnit creates a unit under in.ParentID. Admins may create anywhere, a unit_admin
// only under a unit they manage, and only an admin may create a root unit. It returns
// errs.ErrForbidden for anyone else, an invalid error naming the fields for a missing
// name or code or an unknown parent ("parent_id"), and errs.ErrConflict when the code is
// taken.
func (s *Service) CreateUnit(ctx context.Context, actor Principal, in NewUnit) (Unit, error) {
	if !actor.Has(RoleAdmin) && !actor.Has(RoleUnitAdmin) {
		return Unit{}, fmt.Errorf("only administrators may create units: %w", errs.ErrForbidden)
	}
	var f errs.Fields
	name := cleanText(&f, "name", in.Name, true, maxNameLen)
	code := cleanCode(&f, in.Code)
	parentID := strings.TrimSpace(in.ParentID)
	if err := f.Err(); err != nil {
		return Unit{}, err
	}
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	now := s.now()
	parentCode := ""
	u := Unit{ID: ids.New(), Name: name, Code: code, Path: []string{}, CreatedAt: now, UpdatedAt: now, NameFold: textfold.Fold(name)}
	if parentID == "" {
		if !actor.Has(RoleAdmin) {
			return Unit{}, fmt.Errorf("only an admin may create a top-level unit: %w", errs.ErrForbidden)
		}
	} else {
		parent, err := s.FindUnitByID(ctx, parentID)
		if errors.Is(err, errs.ErrNotFound) {
			return Unit{}, errs.Field("parent_id", "no such unit")
		} else if err != nil {
			return Unit{}, err
		}
		if !Manages(actor.User, parent) {
			return Unit{}, fmt.Errorf("you do not manage unit %s: %w", parent.Code, errs.ErrForbidden)
		}
		u.ParentID = parent.ID
		u.Path = append(slices.Clone(parent.Path), parent.ID)
		parentCode = parent.Code
	}
	if _, err := s.units.InsertOne(ctx, u); err != nil {
		if database.IsDuplicateKey(err) {
			return Unit{}, fmt.Errorf("a unit with code %s already exists: %w", quote(code), errs.ErrConflict)
		}
		return Unit{}, fmt.Errorf("accounts: create unit: %w", dbErr(err))
	}
	if err := s.record(ctx, unitCreatedEntry(actor.AuditActor(), u, parentCode)); err != nil {
		return Unit{}, err
	}
	return u, nil
}

// GetUnit returns a unit with its direct children (sorted by name). Staff only: it
// returns errs.ErrForbidden to learners and errs.ErrNotFound for an unknown id.
func (s *Service) GetUnit(ctx context.Context, actor Principal, id string) (UnitWithChildren, error) {
	if !actor.User.IsStaff() {
		return UnitWithChildren{}, fmt.Errorf("only staff may browse units: %w", errs.ErrForbidden)
	}
	u, err := s.FindUnitByID(ctx, id)
	if err != nil {
		return UnitWithChildren{}, err
	}
	children, err := s.findUnits(ctx, bson.M{"parent_id": u.ID}, options.Find().SetSort(bson.D{{Key: "name_fold", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return UnitWithChildren{}, err
	}
	return UnitWithChildren{Unit: u, Children: children}, nil
}

// UpdateUnit renames, recodes or moves a unit. Admins may change any unit; a unit_admin
// may change units they manage and move them only under units they manage; only an admin
// may make a unit a root. Moving rewrites the Path of the whole subtree. It returns
// errs.ErrNotFound for an unknown unit, errs.ErrForbidden as above, an invalid error for
// bad fields or an unknown new parent ("parent_id"), and errs.ErrConflict for a taken code
// or a move under the unit itself or one of its descendants.
func (s *Service) UpdateUnit(ctx context.Context, actor Principal, id string, p UnitPatch) (Unit, error) {
	if !actor.Has(RoleAdmin) && !actor.Has(RoleUnitAdmin) {
		return Unit{}, fmt.Errorf("only administrators may change units: %w", errs.ErrForbidden)
	}
	if p.ParentID != nil {
		// Serialise moves (and creations) in this process so that two moves cannot form a
		// cycle and a new child cannot get the path its parent had before a move.
		s.treeMu.Lock()
		defer s.treeMu.Unlock()
	}
	u, err := s.FindUnitByID(ctx, id)
	if err != nil {
		return Unit{}, err
	}
	if !Manages(actor.User, u) {
		return Unit{}, fmt.Errorf("you do not manage unit %s: %w", u.Code, errs.ErrForbidden)
	}
	before := u
	parents := map[string]Unit{}
	var f errs.Fields
	set := bson.M{}
	if p.Name != nil {
		u.Name = cleanText(&f, "name", *p.Name, true, maxNameLen)
		u.NameFold = textfold.Fold(u.Name)
		set["name"], set["name_fold"] = u.Name, u.NameFold
	}
	if p.Code != nil {
		u.Code = cleanCode(&f, *p.Code)
		set["code"] = u.Code
	}
	if err := f.Err(); err != nil {
		return Unit{}, err
	}
	update := bson.M{}
	moved := false
	if p.ParentID != nil && strings.TrimSpace(*p.ParentID) != u.ParentID {
		moved = true
		parentID := strings.TrimSpace(*p.ParentID)
		if parentID == "" {
			if !actor.Has(RoleAdmin) {
				return Unit{}, fmt.Errorf("only an admin may make a unit top-level: %w", errs.ErrForbidden)
			}
			u.ParentID, u.Path = "", []string{}
			update["$unset"] = bson.M{"parent_id": ""}
		} else {
			if parentID == u.ID {
				return Unit{}, fmt.Errorf("a unit cannot be moved under itself: %w", errs.ErrConflict)
			}
			parent, err := s.FindUnitByID(ctx, parentID)
			if errors.Is(err, errs.ErrNotFound) {
				return Unit{}, errs.Field("parent_id", "no such unit")
			} else if err != nil {
				return Unit{}, err
			}
			if slices.Contains(parent.Path, u.ID) {
				return Unit{}, fmt.Errorf("a unit cannot be moved under one of its own sub-units: %w", errs.ErrConflict)
			}
			if !Manages(actor.User, parent) {
				return Unit{}, fmt.Errorf("you do not manage unit %s: %w", parent.Code, errs.ErrForbidden)
			}
			parents[parent.ID] = parent
			u.ParentID, u.Path = parent.ID, append(slices.Clone(parent.Path), parent.ID)
			set["parent_id"] = u.ParentID
		}
		set["path"] = u.Path
	}
	u.UpdatedAt = s.now()
	set["updated_at"] = u.UpdatedAt
	update["$set"] = set
	res, err := s.units.UpdateOne(ctx, bson.M{"_id": u.ID}, update)
	if err != nil {
		if database.IsDuplicateKey(err) {
			return Unit{}, fmt.Errorf("a unit with code %s already exists: %w", quote(u.Code), errs.ErrConflict)
		}
		return Unit{}, fmt.Errorf("accounts: update unit %s: %w", u.ID, dbErr(err))
	}
	if res.MatchedCount == 0 {
		return Unit{}, fmt.Errorf("unit %s: %w", u.ID, errs.ErrNotFound)
	}
	if moved {
		if err := s.rewriteSubtreePaths(ctx, u); err != nil {
			return Unit{}, err
		}
	}
	if moved && before.ParentID != "" {
		// The old parent's code, for the audit entry; a parent gone meanwhile shows its id.
		old, err := s.FindUnitByID(ctx, before.ParentID)
		if err == nil {
			parents[old.ID] = old
		} else if !errors.Is(err, errs.ErrNotFound) {
			return Unit{}, err
		}
	}
	if e, changed := unitChangeEntry(actor.AuditActor(), before, u, parents); changed {
		if err := s.record(ctx, e); err != nil {
			return Unit{}, err
		}
	}
	return u, nil
}

// rewriteSubtreePaths gives every descendant of u a path that starts with u's new path.
// Each descendant keeps the part of its path below u. One bulk write per bulkUpdateBatch
// descendants.
func (s *Service) rewriteSubtreePaths(ctx context.Context, u Unit) error {
	desc, err := s.findUnits(ctx, bson.M{"path": u.ID}, nil)
	if err != nil {
		return err
	}
	now := s.now()
	models := make([]mongo.WriteModel, 0, min(len(desc), bulkUpdateBatch))
	flush := func() error {
		if len(models) == 0 {
			return nil
		}
		if _, err := s.units.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return fmt.Errorf("accounts: rewrite the paths under unit %s: %w", u.ID, dbErr(err))
		}
		models = models[:0]
		return nil
	}
	for _, d := range desc {
		i := slices.Index(d.Path, u.ID) // found: the filter asked for it
		path := append(append(slices.Clone(u.Path), u.ID), d.Path[i+1:]...)
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": d.ID}).
			SetUpdate(bson.M{"$set": bson.M{"path": path, "updated_at": now}}))
		if len(models) == bulkUpdateBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// ListUnits returns units matching f, sorted by name. Staff only: it returns
// errs.ErrForbidden to learners.
func (s *Service) ListUnits(ctx context.Context, actor Principal, f UnitFilter) (Page[Unit], error) {
	if !actor.User.IsStaff() {
		return Page[Unit]{}, fmt.Errorf("only staff may browse units: %w", errs.ErrForbidden)
	}
	filter := bson.M{}
	switch {
	case f.RootsOnly:
		filter["parent_id"] = bson.M{"$exists": false}
	case f.ParentID != "":
		filter["parent_id"] = f.ParentID
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		filter["$or"] = bson.A{
			bson.M{"name_fold": bson.M{"$regex": regexp.QuoteMeta(textfold.Fold(q))}},
			bson.M{"code": bson.M{"$regex": regexp.QuoteMeta(q), "$options": "i"}},
		}
	}
	limit, offset := pageBounds(f.Limit, f.Offset)
	total, err := s.units.CountDocuments(ctx, filter)
	if err != nil {
		return Page[Unit]{}, fmt.Errorf("accounts: count units: %w", dbErr(err))
	}
	items, err := s.findUnits(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "name_fold", Value: 1}, {Key: "_id", Value: 1}}).
		SetSkip(int64(offset)).SetLimit(int64(limit)))
	if err != nil {
		return Page[Unit]{}, err
	}
	return Page[Unit]{Items: items, Total: int(total)}, nil
}

// SubtreeUnitIDs returns unitID followed by the ids of all its descendants. It returns
// errs.ErrNotFound for an unknown unit.
func (s *Service) SubtreeUnitIDs(ctx context.Context, unitID string) ([]string, error) {
	u, err := s.FindUnitByID(ctx, unitID)
	if err != nil {
		return nil, err
	}
	desc, err := s.findUnits(ctx, bson.M{"path": u.ID}, options.Find().SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(desc)+1)
	out = append(out, u.ID)
	for _, d := range desc {
		out = append(out, d.ID)
	}
	return out, nil
}

// FindUnitsByIDs returns the units with the given ids, in no particular order; unknown ids
// are left out.
func (s *Service) FindUnitsByIDs(ctx context.Context, unitIDs []string) ([]Unit, error) {
	if len(unitIDs) == 0 {
		return []Unit{}, nil
	}
	units, err := database.FindByIDs[Unit](ctx, s.units, unitIDs)
	if err != nil {
		return nil, fmt.Errorf("accounts: find units: %w", dbErr(err))
	}
	return units, nil
}

// AllUnits returns every unit, sorted by depth and then name, so parents come before
// their children.
func (s *Service) AllUnits(ctx context.Context) ([]Unit, error) {
	all, err := s.findUnits(ctx, bson.M{}, nil)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b Unit) int {
		if c := len(a.Path) - len(b.Path); c != 0 {
			return c
		}
		if c := strings.Compare(a.NameFold, b.NameFold); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return all, nil
}

// CanManageUnit returns nil when actor may administer unitID (see Manages),
// errs.ErrForbidden when not, and errs.ErrNotFound for an unknown unit. Other domains use
// it for "unit_admin of that unit" checks.
func (s *Service) CanManageUnit(ctx context.Context, actor Principal, unitID string) error {
	if !actor.Has(RoleAdmin) && !actor.Has(RoleUnitAdmin) {
		return fmt.Errorf("you do not manage any unit: %w", errs.ErrForbidden)
	}
	u, err := s.FindUnitByID(ctx, unitID)
	if err != nil {
		return err
	}
	if !Manages(actor.User, u) {
		return fmt.Errorf("you do not manage unit %s: %w", u.Code, errs.ErrForbidden)
	}
	return nil
}

// ManagedUnitIDs returns the units u administers: all=true for an admin; for a
// unit_admin, the ids of their scope roots and every unit below them; nothing for anyone
// else. Reports and audit use it to scope what a unit_admin sees.
func (s *Service) ManagedUnitIDs(ctx context.Context, u User) (all bool, unitIDs []string, err error) {
	if u.Has(RoleAdmin) {
		return true, nil, nil
	}
	if !u.Has(RoleUnitAdmin) {
		return false, []string{}, nil
	}
	roots := adminRoots(u)
	if len(roots) == 0 {
		return false, []string{}, nil
	}
	units, err := s.findUnits(ctx, bson.M{"$or": bson.A{
		bson.M{"_id": bson.M{"$in": roots}},
		bson.M{"path": bson.M{"$in": roots}},
	}}, options.Find().SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return false, nil, err
	}
	out := make([]string, len(units))
	for i, x := range units {
		out[i] = x.ID
	}
	return false, out, nil
}

func (s *Service) findUnits(ctx context.Context, filter any, opts *options.FindOptionsBuilder) ([]Unit, error) {
	var o []options.Lister[options.FindOptions]
	if opts != nil {
		o = append(o, opts)
	}
	cur, err := s.units.Find(ctx, filter, o...)
	if err != nil {
		return nil, fmt.Errorf("accounts: find units: %w", dbErr(err))
	}
	out := []Unit{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("accounts: read units: %w", dbErr(err))
	}
	return out, nil
}
