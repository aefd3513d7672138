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

// NewUser is the input of CreateUser. Empty Roles means [learner]; empty Language "vi".
type NewUser struct {
	Username     string   `json:"username"`
	Password     string   `json:"password"`
	FullName     string   `json:"full_name"`
	Email        string   `json:"email"`
	UnitID       string   `json:"unit_id"`
	Position     string   `json:"position"`
	Roles        []Role   `json:"roles"`
	AdminUnitIDs []string `json:"admin_unit_ids"`
	Language     string   `json:"language"`
}

// UserPatch is the input of UpdateUser; nil fields stay as they are. A user changing
// their own password must give CurrentPassword as well.
type UserPatch struct {
	FullName        *string   `json:"full_name"`
	Email           *string   `json:"email"`
	UnitID          *string   `json:"unit_id"`
	Position        *string   `json:"position"`
	Password        *string   `json:"password"`
	CurrentPassword *string   `json:"current_password"`
	Language        *string   `json:"language"`
	Roles           *[]Role   `json:"roles"`
	AdminUnitIDs    *[]string `json:"admin_unit_ids"`
	Active          *bool     `json:"active"`
}

// UserFilter selects users for ListUsers. Empty fields do not filter.
type UserFilter struct {
	UnitID   string
	Subunits bool   // with UnitID: include every unit below it
	Q        string // substring of the full name or username, ignoring case and diacritics
	Role     Role
	Limit    int // default 50, at most 500
	Offset   int
}

// Languages a user may choose for the interface.
var Languages = []string{"vi", "en"}

// CanAdminister reports whether actor may change target's account (unit, roles, password,
// activation). units must hold target's unit and admin units by id. An admin may change
// anyone; a unit_admin may change a non-admin whose unit, and for a unit_admin target
// every unit they administer, lies in the actor's scope — so nobody gains power over units
// outside their own scope through another account.
func CanAdminister(actor, target User, units map[string]Unit) bool {
	if actor.Has(RoleAdmin) {
		return true
	}
	if !actor.Has(RoleUnitAdmin) || target.Has(RoleAdmin) {
		return false
	}
	unit, ok := units[target.UnitID]
	if !ok || !Manages(actor, unit) {
		return false
	}
	if target.Has(RoleUnitAdmin) {
		for _, id := range adminRoots(target) {
			if u, ok := units[id]; !ok || !Manages(actor, u) {
				return false
			}
		}
	}
	return true
}

// findUser returns one stored user (with its hash) or errs.ErrNotFound.
func (s *Service) findUser(ctx context.Context, id string) (User, error) {
	if !ids.Valid(id) {
		return User{}, fmt.Errorf("user %s: %w", quote(id), errs.ErrNotFound)
	}
	var u User
	if err := s.users.FindOne(ctx, bson.M{"_id": id}).Decode(&u); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return User{}, fmt.Errorf("user %s: %w", id, errs.ErrNotFound)
		}
		return User{}, fmt.Errorf("accounts: find user %s: %w", id, dbErr(err))
	}
	return u, nil
}

// unitsByID loads the units with the given ids into a map (empty ids are skipped).
func (s *Service) unitsByID(ctx context.Context, unitIDs ...string) (map[string]Unit, error) {
	units, err := s.FindUnitsByIDs(ctx, cleanIDs(unitIDs))
	if err != nil {
		return nil, err
	}
	m := make(map[string]Unit, len(units))
	for _, u := range units {
		m[u.ID] = u
	}
	return m, nil
}

func fieldReason(err error, field string) string {
	var fe *errs.FieldError
	if errors.As(err, &fe) {
		if r, ok := fe.Fields[field]; ok {
			return r
		}
	}
	return err.Error()
}

// cleanIDs trims ids and drops empty ones and duplicates, keeping the first order.
func cleanIDs(in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, id := range in {
		if id = strings.TrimSpace(id); id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// CreateUser creates an active user. The actor must be an admin, or a unit_admin who
// manages the new user's unit and every unit in AdminUnitIDs and does not grant admin.
// It returns errs.ErrForbidden for anyone else, an invalid error naming the fields
// (username rule, password of at least 8 characters, full name, e-mail, roles, an
// unknown unit_id or admin_unit_ids), and errs.ErrConflict when the username is taken.
func (s *Service) CreateUser(ctx context.Context, actor Principal, in NewUser) (User, error) {
	if !actor.Has(RoleAdmin) && !actor.Has(RoleUnitAdmin) {
		return User{}, fmt.Errorf("only administrators may create users: %w", errs.ErrForbidden)
	}
	var f errs.Fields
	username, err := NormalizeUsername(in.Username)
	if err != nil {
		f.Add("username", fieldReason(err, "username"))
	}
	if err := CheckPassword(in.Password); err != nil {
		f.Add("password", fieldReason(err, "password"))
	}
	u := User{
		ID:       ids.New(),
		Username: username,
		FullName: cleanText(&f, "full_name", in.FullName, true, maxNameLen),
		Email:    cleanEmail(&f, in.Email),
		UnitID:   strings.TrimSpace(in.UnitID),
		Position: cleanText(&f, "position", in.Position, false, maxPositionLen),
		Active:   true,
		Language: strings.TrimSpace(in.Language),
	}
	f.Check(u.UnitID == "", "unit_id", "is required")
	if u.Roles, err = normalizeRoles(in.Roles); err != nil {
		f.Add("roles", fieldReason(err, "roles"))
	}
	if u.Language == "" {
		u.Language = "vi"
	}
	f.Check(!slices.Contains(Languages, u.Language), "language", "must be vi or en")
	u.AdminUnitIDs = cleanIDs(in.AdminUnitIDs)
	f.Check(len(u.AdminUnitIDs) > 0 && !slices.Contains(u.Roles, RoleUnitAdmin), "admin_unit_ids", "only a unit_admin administers units")
	if err := f.Err(); err != nil {
		return User{}, err
	}
	units, err := s.unitsByID(ctx, append([]string{u.UnitID}, u.AdminUnitIDs...)...)
	if err != nil {
		return User{}, err
	}
	if _, ok := units[u.UnitID]; !ok {
		f.Add("unit_id", "no such unit")
	}
	for _, id := range u.AdminUnitIDs {
		if _, ok := units[id]; !ok {
			f.Add("admin_unit_ids", "no such unit: "+quote(id))
		}
	}
	if err := f.Err(); err != nil {
		return User{}, err
	}
	if err := checkGrant(actor.User, u, units); err != nil {
		return User{}, err
	}
	if u.PasswordHash, err = s.hash(ctx, in.Password); err != nil {
		return User{}, err
	}
	u.CreatedAt = s.now()
	u.UpdatedAt = u.CreatedAt
	u.NameFold = nameFold(u.FullName, u.Username)
	if _, err := s.users.InsertOne(ctx, u); err != nil {
		if database.IsDuplicateKey(err) {
			return User{}, fmt.Errorf("the username %s is taken: %w", quote(username), errs.ErrConflict)
		}
		return User{}, fmt.Errorf("accounts: create user: %w", dbErr(err))
	}
	if err := s.record(ctx, userCreatedEntry(actor.AuditActor(), u, units)); err != nil {
		return User{}, err
	}
	return public(u), nil
}

// checkGrant returns errs.ErrForbidden unless actor may give u its unit, roles and admin
// units (units holds them by id).
func checkGrant(actor User, u User, units map[string]Unit) error {
	if actor.Has(RoleAdmin) {
		return nil
	}
	if !actor.Has(RoleUnitAdmin) {
		return fmt.Errorf("only administrators may manage users: %w", errs.ErrForbidden)
	}
	if u.Has(RoleAdmin) {
		return fmt.Errorf("only an admin may grant the admin role: %w", errs.ErrForbidden)
	}
	if !Manages(actor, units[u.UnitID]) {
		return fmt.Errorf("you do not manage the unit %s: %w", units[u.UnitID].Code, errs.ErrForbidden)
	}
	if u.Has(RoleUnitAdmin) {
		for _, id := range adminRoots(u) {
			if !Manages(actor, units[id]) {
				return fmt.Errorf("you do not manage the unit %s: %w", units[id].Code, errs.ErrForbidden)
			}
		}
	}
	return nil
}

// FindUserByID returns a user. Users may read themselves; staff (admin, unit_admin,
// lecturer, trainer) may read anyone. It returns errs.ErrNotFound for an unknown user and
// for a learner asking about someone else (so learners cannot probe for accounts).
func (s *Service) FindUserByID(ctx context.Context, actor Principal, id string) (User, error) {
	if actor.User.ID != id && !actor.User.IsStaff() {
		return User{}, fmt.Errorf("user %s: %w", quote(id), errs.ErrNotFound)
	}
	u, err := s.findUser(ctx, id)
	if err != nil {
		return User{}, err
	}
	return public(u), nil
}

// UpdateUser changes a user. Users may change their own e-mail, language and password
// (giving CurrentPassword); the full name, unit, position, roles, admin units, activation
// and other people's passwords need an actor allowed by CanAdminister, and a unit_admin
// may move users only to units they manage and never grant admin. Nobody may deactivate
// themselves or drop their own admin role. A new password revokes the user's other
// sessions; deactivation revokes all of them. It returns errs.ErrNotFound for an unknown
// user (and for a learner naming someone else), errs.ErrForbidden, an invalid error naming
// the fields (including a wrong "current_password"), and errs.ErrRateLimited after too
// many wrong current passwords.
func (s *Service) UpdateUser(ctx context.Context, actor Principal, id string, p UserPatch) (User, error) {
	self := actor.User.ID == id
	if !self && !actor.User.IsStaff() {
		return User{}, fmt.Errorf("user %s: %w", quote(id), errs.ErrNotFound)
	}
	target, err := s.findUser(ctx, id)
	if err != nil {
		return User{}, err
	}
	newUnit := target.UnitID
	if p.UnitID != nil {
		newUnit = strings.TrimSpace(*p.UnitID)
	}
	var newAdminUnits []string
	if p.AdminUnitIDs != nil {
		newAdminUnits = cleanIDs(*p.AdminUnitIDs)
	}
	units, err := s.unitsByID(ctx, append(append([]string{target.UnitID, newUnit}, target.AdminUnitIDs...), newAdminUnits...)...)
	if err != nil {
		return User{}, err
	}
	administers := CanAdminister(actor.User, target, units)
	adminOnly := p.FullName != nil || p.UnitID != nil || p.Position != nil || p.Roles != nil || p.AdminUnitIDs != nil ||
		p.Active != nil || (p.Password != nil && !self)
	if !administers && (!self || adminOnly) {
		return User{}, fmt.Errorf("you may not change this user: %w", errs.ErrForbidden)
	}

	var f errs.Fields
	set, unset := bson.M{}, bson.M{}
	next := target
	if p.FullName != nil {
		next.FullName = cleanText(&f, "full_name", *p.FullName, true, maxNameLen)
		next.NameFold = nameFold(next.FullName, next.Username)
		set["full_name"], set["name_fold"] = next.FullName, next.NameFold
	}
	if p.Email != nil {
		next.Email = cleanEmail(&f, *p.Email)
		if next.Email == "" {
			unset["email"] = ""
		} else {
			set["email"] = next.Email
		}
	}
	if p.Position != nil {
		next.Position = cleanText(&f, "position", *p.Position, false, maxPositionLen)
		set["position"] = next.Position
	}
	if p.Language != nil {
		next.Language = strings.TrimSpace(*p.Language)
		f.Check(!slices.Contains(Languages, next.Language), "language", "must be vi or en")
		set["language"] = next.Language
	}
	if p.UnitID != nil {
		next.UnitID = newUnit
		if _, ok := units[newUnit]; !ok {
			f.Add("unit_id", "no such unit")
		}
		set["unit_id"] = next.UnitID
	}
	if p.Roles != nil {
		roles, err := normalizeRoles(*p.Roles)
		if err != nil {
			f.Add("roles", fieldReason(err, "roles"))
		}
		next.Roles = roles
		set["roles"] = roles
		f.Check(self && target.Has(RoleAdmin) && !slices.Contains(roles, RoleAdmin), "roles", "you cannot remove your own admin role")
	}
	if p.AdminUnitIDs != nil {
		next.AdminUnitIDs = newAdminUnits
		for _, id := range newAdminUnits {
			if _, ok := units[id]; !ok {
				f.Add("admin_unit_ids", "no such unit: "+quote(id))
			}
		}
	}
	if !next.Has(RoleUnitAdmin) {
		f.Check(p.AdminUnitIDs != nil && len(newAdminUnits) > 0, "admin_unit_ids", "only a unit_admin administers units")
		next.AdminUnitIDs = nil
	}
	if len(next.AdminUnitIDs) == 0 {
		unset["admin_unit_ids"] = ""
	} else if p.AdminUnitIDs != nil {
		set["admin_unit_ids"] = next.AdminUnitIDs
	}
	if p.Active != nil {
		f.Check(self && !*p.Active, "active", "you cannot deactivate your own account")
		next.Active = *p.Active
		set["active"] = next.Active
	}
	if p.Password != nil {
		if err := CheckPassword(*p.Password); err != nil {
			f.Add("password", fieldReason(err, "password"))
		}
	}
	if err := f.Err(); err != nil {
		return User{}, err
	}
	if administers && !actor.Has(RoleAdmin) {
		if err := checkGrant(actor.User, next, units); err != nil {
			return User{}, err
		}
	}
	if p.Password != nil {
		if self {
			if err := s.checkCurrentPassword(ctx, target, p.CurrentPassword); err != nil {
				return User{}, err
			}
		}
		hash, err := s.hash(ctx, *p.Password)
		if err != nil {
			return User{}, err
		}
		set["password_hash"] = hash
	}
	set["updated_at"] = s.now()
	update := bson.M{"$set": set}
	if len(unset) > 0 {
		update["$unset"] = unset
	}
	var updated User
	err = s.users.FindOneAndUpdate(ctx, bson.M{"_id": target.ID}, update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&updated)
	if err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return User{}, fmt.Errorf("user %s: %w", target.ID, errs.ErrNotFound)
		}
		return User{}, fmt.Errorf("accounts: update user %s: %w", target.ID, dbErr(err))
	}
	switch {
	case !updated.Active:
		err = s.revokeSessions(ctx, updated.ID, "")
	case p.Password != nil:
		keep := ""
		if self {
			keep = actor.SessionID
		}
		err = s.revokeSessions(ctx, updated.ID, keep)
	default:
		s.cache.removeUser(updated.ID)
	}
	if err != nil {
		return User{}, err
	}
	if err := s.record(ctx, userChangeEntries(actor.AuditActor(), target, updated, self, p.Password != nil, units)...); err != nil {
		return User{}, err
	}
	return public(updated), nil
}

// checkCurrentPassword verifies the password a user gives to change their own, counting
// wrong guesses in the login throttle so it cannot be brute-forced from a stolen session.
func (s *Service) checkCurrentPassword(ctx context.Context, u User, current *string) error {
	if current == nil || *current == "" {
		return errs.Field("current_password", "is required to change your password")
	}
	now := s.now()
	if limited, _ := s.throttle.limited(u.Username, "", now, s.cfg.MaxFailuresPerUser, s.cfg.MaxFailuresPerIP); limited {
		return fmt.Errorf("too many wrong passwords, try again later: %w", errs.ErrRateLimited)
	}
	ok, err := s.verify(ctx, *current, u.PasswordHash)
	if err != nil {
		return fmt.Errorf("accounts: check the password of user %s: %w", u.ID, err)
	}
	if !ok {
		s.throttle.fail(u.Username, "", now)
		return errs.Field("current_password", "is wrong")
	}
	return nil
}

// ListUsers returns users matching f, sorted by full name. Staff only (errs.ErrForbidden
// for learners). A unit_admin who is not also admin, lecturer or trainer sees only users
// of the units they manage (errs.ErrForbidden when f.UnitID lies outside them). Q ignores
// case and diacritics and matches NFC and NFD input alike. It returns an invalid error for
// an unknown role or (with Subunits) an unknown unit.
func (s *Service) ListUsers(ctx context.Context, actor Principal, f UserFilter) (Page[User], error) {
	if !actor.User.IsStaff() {
		return Page[User]{}, fmt.Errorf("only staff may list users: %w", errs.ErrForbidden)
	}
	if f.Role != "" && !f.Role.Valid() {
		return Page[User]{}, errs.Field("role", "unknown role")
	}
	filter := bson.M{}
	var unitIDs []string
	unitFilter := false
	if f.UnitID != "" {
		unitFilter = true
		unitIDs = []string{f.UnitID}
		if f.Subunits {
			sub, err := s.SubtreeUnitIDs(ctx, f.UnitID)
			if errors.Is(err, errs.ErrNotFound) {
				return Page[User]{}, errs.Field("unit_id", "no such unit")
			} else if err != nil {
				return Page[User]{}, err
			}
			unitIDs = sub
		}
	}
	scoped := !actor.Has(RoleAdmin) && !actor.Has(RoleLecturer) && !actor.Has(RoleTrainer)
	if scoped {
		_, managed, err := s.ManagedUnitIDs(ctx, actor.User)
		if err != nil {
			return Page[User]{}, err
		}
		if unitFilter {
			if !slices.Contains(managed, f.UnitID) {
				return Page[User]{}, fmt.Errorf("you do not manage that unit: %w", errs.ErrForbidden)
			}
			unitIDs = slices.DeleteFunc(unitIDs, func(id string) bool { return !slices.Contains(managed, id) })
		} else {
			unitIDs = managed
		}
		unitFilter = true
	}
	if unitFilter {
		filter["unit_id"] = bson.M{"$in": unitIDs}
	}
	if f.Role != "" {
		filter["roles"] = f.Role
	}
	if q := textfold.Fold(f.Q); q != "" {
		filter["name_fold"] = bson.M{"$regex": regexp.QuoteMeta(q)}
	}
	limit, offset := pageBounds(f.Limit, f.Offset)
	total, err := s.users.CountDocuments(ctx, filter)
	if err != nil {
		return Page[User]{}, fmt.Errorf("accounts: count users: %w", dbErr(err))
	}
	items, err := s.findUsers(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "name_fold", Value: 1}, {Key: "_id", Value: 1}}).
		SetSkip(int64(offset)).SetLimit(int64(limit)))
	if err != nil {
		return Page[User]{}, err
	}
	return Page[User]{Items: items, Total: int(total)}, nil
}

// ListUsersInUnits returns the active users of the given units (not their sub-units;
// pass SubtreeUnitIDs for that), sorted by full name, for enrolment and reports.
func (s *Service) ListUsersInUnits(ctx context.Context, unitIDs []string) ([]User, error) {
	if len(unitIDs) == 0 {
		return []User{}, nil
	}
	return s.findUsers(ctx, bson.M{"unit_id": bson.M{"$in": unitIDs}, "active": true},
		options.Find().SetSort(bson.D{{Key: "name_fold", Value: 1}, {Key: "_id", Value: 1}}))
}

// FindUsersByIDs returns the users with the given ids (active or not), in no particular
// order; unknown ids are left out.
func (s *Service) FindUsersByIDs(ctx context.Context, userIDs []string) ([]User, error) {
	if len(userIDs) == 0 {
		return []User{}, nil
	}
	users, err := database.FindByIDs[User](ctx, s.users, userIDs)
	if err != nil {
		return nil, fmt.Errorf("accounts: find users: %w", dbErr(err))
	}
	for i := range users {
		users[i] = public(users[i])
	}
	return users, nil
}

func (s *Service) findUsers(ctx context.Context, filter any, opts *options.FindOptionsBuilder) ([]User, error) {
	var o []options.Lister[options.FindOptions]
	if opts != nil {
		o = append(o, opts)
	}
	cur, err := s.users.Find(ctx, filter, o...)
	if err != nil {
		return nil, fmt.Errorf("accounts: find users: %w", dbErr(err))
	}
	out := []User{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("accounts: read users: %w", dbErr(err))
	}
	for i := range out {
		out[i] = public(out[i])
	}
	return out, nil
}
