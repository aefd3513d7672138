package frontend

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/internal/errs"
)

// requireManager lets admins and unit_admins (personnel officers) through.
func (f *Frontend) requireManager(c *fiber.Ctx) (accounts.Principal, error) {
	p, _ := f.d.Principal(c)
	if !p.Has(accounts.RoleAdmin) && !p.Has(accounts.RoleUnitAdmin) {
		return p, fmt.Errorf("administration pages are for admins and unit admins: %w", errs.ErrForbidden)
	}
	return p, nil
}

// unitNode is a unit with its visible children, for the tree and the unit pickers.
type unitNode struct {
	accounts.Unit
	Depth    int
	Children []*unitNode
}

// unitTree is the part of the unit tree the caller manages.
type unitTree struct {
	Roots []*unitNode
	Flat  []*unitNode // depth-first, for <select> options
	ByID  map[string]*unitNode
}

// Indent is the option label's prefix showing the depth in a <select>.
func (n *unitNode) Indent() string { return strings.Repeat("— ", n.Depth) }

func (f *Frontend) managedTree(c *fiber.Ctx, p accounts.Principal) (unitTree, error) {
	all, err := f.d.Accounts.AllUnits(c.UserContext())
	if err != nil {
		return unitTree{}, err
	}
	everything, ids, err := f.d.Accounts.ManagedUnitIDs(c.UserContext(), p.User)
	if err != nil {
		return unitTree{}, err
	}
	visible := func(accounts.Unit) bool { return true }
	if !everything {
		visible = func(u accounts.Unit) bool { return slices.Contains(ids, u.ID) }
	}
	return buildTree(all, visible), nil
}

// buildTree arranges the visible units as a forest: a unit whose parent is not visible is
// a root. Siblings are in Vietnamese alphabetical order.
func buildTree(all []accounts.Unit, visible func(accounts.Unit) bool) unitTree {
	t := unitTree{ByID: map[string]*unitNode{}}
	for _, u := range all {
		if visible(u) {
			t.ByID[u.ID] = &unitNode{Unit: u}
		}
	}
	for _, u := range all {
		n, ok := t.ByID[u.ID]
		if !ok {
			continue
		}
		if parent, ok := t.ByID[u.ParentID]; ok && u.ParentID != "" {
			parent.Children = append(parent.Children, n)
		} else {
			t.Roots = append(t.Roots, n)
		}
	}
	var walk func(ns []*unitNode, depth int)
	walk = func(ns []*unitNode, depth int) {
		slices.SortFunc(ns, func(a, b *unitNode) int { return CompareText(a.Name, b.Name) })
		for _, n := range ns {
			n.Depth = depth
			t.Flat = append(t.Flat, n)
			walk(n.Children, depth+1)
		}
	}
	walk(t.Roots, 0)
	return t
}

type unitsData struct {
	Tree      unitTree
	CanCreate bool
	CanRoot   bool
	// Edit is the unit being edited (?edit=), nil when none; EditForm its values to show.
	Edit     *unitNode
	EditForm map[string]string
	EditErrs map[string]string
}

func (f *Frontend) unitsPage(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	v := f.newView(c, "units")
	return f.renderUnits(c, v, p)
}

func (f *Frontend) renderUnits(c *fiber.Ctx, v *view, p accounts.Principal) error {
	tree, err := f.managedTree(c, p)
	if err != nil {
		return err
	}
	if v.Form == nil {
		v.Form = map[string]string{"parent_id": c.Query("parent_id")}
	}
	d := unitsData{Tree: tree, CanRoot: p.Has(accounts.RoleAdmin), CanCreate: p.Has(accounts.RoleAdmin) || len(tree.Flat) > 0}
	if n, ok := tree.ByID[c.Query("edit")]; ok {
		d.Edit = n
		d.EditForm = map[string]string{"name": n.Name, "code": n.Code, "parent_id": n.ParentID}
	}
	v.Data = d
	return f.render(c, "units", v)
}

// updateUnit renames, recodes or moves a unit (under another parent, or to the top for
// an admin); the whole subtree moves with it.
func (f *Frontend) updateUnit(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	id := c.Params("id")
	name, code, parent := c.FormValue("name"), c.FormValue("code"), c.FormValue("parent_id")
	patch := accounts.UnitPatch{Name: &name, Code: &code, ParentID: &parent}
	if parent == c.FormValue("current_parent") {
		// Not moving: a unit admin may keep a parent they could not choose.
		patch.ParentID = nil
	}
	if _, err := f.d.Accounts.UpdateUnit(c.UserContext(), p, id, patch); err != nil {
		v := f.newView(c, "units")
		status, ok := v.formFailed(err, "units.update_conflict")
		if !ok {
			return err
		}
		// The edit form, not the new-unit form, shows these errors and values.
		editErrs := v.Errors
		v.Errors = nil
		c.Request().URI().SetQueryString("edit=" + url.QueryEscape(id))
		c.Status(status)
		return f.renderUnitsEdit(c, v, p, editErrs, formValues(c, "name", "code", "parent_id"))
	}
	return c.Redirect("/admin/units?ok=unit_saved", http.StatusSeeOther)
}

// ParentOutside reports whether the edited unit's parent lies outside the caller's tree
// (a unit admin editing the top unit they manage, or a root): the form then offers to
// keep it.
func (d unitsData) ParentOutside() bool {
	id := d.EditForm["parent_id"]
	if id == "" {
		return !d.CanRoot
	}
	_, ok := d.Tree.ByID[id]
	return !ok
}

// EditVal and EditErr are the edit form's value and error of a field.
func (d unitsData) EditVal(field string) string { return d.EditForm[field] }
func (d unitsData) EditErr(field string) string { return d.EditErrs[field] }

func (f *Frontend) renderUnitsEdit(c *fiber.Ctx, v *view, p accounts.Principal, editErrs, form map[string]string) error {
	tree, err := f.managedTree(c, p)
	if err != nil {
		return err
	}
	d := unitsData{Tree: tree, CanRoot: p.Has(accounts.RoleAdmin), CanCreate: p.Has(accounts.RoleAdmin) || len(tree.Flat) > 0,
		Edit: tree.ByID[c.Query("edit")], EditForm: form, EditErrs: editErrs}
	v.Data = d
	return f.render(c, "units", v)
}

func (f *Frontend) createUnit(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	in := accounts.NewUnit{Name: c.FormValue("name"), Code: c.FormValue("code"), ParentID: c.FormValue("parent_id")}
	if _, err := f.d.Accounts.CreateUnit(c.UserContext(), p, in); err != nil {
		v := f.newView(c, "units")
		status, ok := v.formFailed(err, "units.code_taken")
		if !ok {
			return err
		}
		if status == http.StatusConflict {
			v.Errors = map[string]string{"code": v.T("units.code_taken")}
		}
		v.Form = formValues(c, "name", "code", "parent_id")
		c.Status(status)
		return f.renderUnits(c, v, p)
	}
	return c.Redirect("/admin/units?ok=unit_created", http.StatusSeeOther)
}

// usersPageSize is how many people one page of the user list shows.
const usersPageSize = 50

type usersData struct {
	Tree      unitTree
	Users     []accounts.User
	Total     int  // how many matched
	Truncated bool // more matched than one search may sort; refine the search
	Q         string
	UnitID    string
	Subunits  bool
}

// UnitName is the name of a unit of the tree, or its id when the caller cannot see it.
func (d usersData) UnitName(id string) string {
	if n, ok := d.Tree.ByID[id]; ok {
		return n.Name
	}
	return ""
}

// usersPage lists and searches people: q ignores diacritics ("nguyen van cu" finds
// "Nguyễn Văn Cừ"); the list is in Vietnamese name order (given name first).
func (f *Frontend) usersPage(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	v := f.newView(c, "users")
	tree, err := f.managedTree(c, p)
	if err != nil {
		return err
	}
	d := usersData{Tree: tree, Q: strings.TrimSpace(c.Query("q")), UnitID: c.Query("unit_id"), Subunits: c.Query("subunits") != ""}
	if len(d.Q) > 200 {
		d.Q = d.Q[:200]
	}
	page, err := f.d.Accounts.ListUsers(c.UserContext(), p, accounts.UserFilter{
		UnitID: d.UnitID, Subunits: d.Subunits && d.UnitID != "", Q: d.Q, Limit: accounts.MaxLimit,
	})
	if err != nil {
		if status, ok := v.formFailed(err, "error.conflict.text"); ok {
			c.Status(status)
			v.Data = d
			return f.render(c, "users", v)
		}
		return err
	}
	users := page.Items
	SortByName(users, func(u accounts.User) string { return u.FullName })
	d.Total, d.Truncated = page.Total, page.Total > len(users)
	pages := max(1, (len(users)+usersPageSize-1)/usersPageSize)
	pageNo, _ := strconv.Atoi(c.Query("page"))
	pageNo = min(max(pageNo, 1), pages)
	from := (pageNo - 1) * usersPageSize
	d.Users = users[from:min(from+usersPageSize, len(users))]
	q := c.Request().URI().QueryArgs()
	pageURL := func(n int) string {
		args := fiber.AcquireArgs()
		defer fiber.ReleaseArgs(args)
		q.CopyTo(args)
		args.Set("page", strconv.Itoa(n))
		return "/admin/users?" + args.String()
	}
	v.Pager = newPager(pageNo, pages, pageURL)
	v.Data = d
	return f.render(c, "users", v)
}

type newUserData struct {
	Tree  unitTree
	Roles []accounts.Role
}

// Checked reports whether role was ticked on the submitted form (learner by default).
func (v *view) Checked(role accounts.Role) bool {
	if v.Form == nil {
		return role == accounts.RoleLearner
	}
	return strings.Contains(" "+v.Form["roles"]+" ", " "+string(role)+" ")
}

func (f *Frontend) newUserPage(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	v := f.newView(c, "users")
	return f.renderNewUser(c, v, p)
}

func (f *Frontend) renderNewUser(c *fiber.Ctx, v *view, p accounts.Principal) error {
	tree, err := f.managedTree(c, p)
	if err != nil {
		return err
	}
	v.Data = newUserData{Tree: tree, Roles: accounts.Roles}
	return f.render(c, "user_new", v)
}

func (f *Frontend) createUser(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	form, err := c.MultipartForm()
	var roles []accounts.Role
	if err == nil {
		for _, r := range form.Value["roles"] {
			roles = append(roles, accounts.Role(r))
		}
	} else {
		c.Request().PostArgs().VisitAll(func(k, val []byte) {
			if string(k) == "roles" {
				roles = append(roles, accounts.Role(val))
			}
		})
	}
	in := accounts.NewUser{
		Username: c.FormValue("username"), Password: c.FormValue("password"), FullName: c.FormValue("full_name"),
		Email: c.FormValue("email"), UnitID: c.FormValue("unit_id"), Position: c.FormValue("position"), Roles: roles,
	}
	if _, err := f.d.Accounts.CreateUser(c.UserContext(), p, in); err != nil {
		v := f.newView(c, "users")
		status, ok := v.formFailed(err, "users.username_taken")
		if !ok {
			return err
		}
		if status == http.StatusConflict {
			v.Errors = map[string]string{"username": v.T("users.username_taken")}
		}
		v.Form = formValues(c, "username", "full_name", "email", "unit_id", "position")
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = string(r)
		}
		v.Form["roles"] = strings.Join(names, " ")
		c.Status(status)
		return f.renderNewUser(c, v, p)
	}
	return c.Redirect("/admin/users?ok=user_created&q="+url.QueryEscape(in.Username), http.StatusSeeOther)
}

type importData struct {
	Done   bool
	Result accounts.ImportResult
}

func (f *Frontend) importPage(c *fiber.Ctx) error {
	if _, err := f.requireManager(c); err != nil {
		return err
	}
	v := f.newView(c, "users")
	v.Data = importData{}
	return f.render(c, "user_import", v)
}

// importUsers takes a staff list (CSV) from a multipart form and shows what happened to
// each line, with the passwords given to new accounts (shown this once).
func (f *Frontend) importUsers(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	v := f.newView(c, "users")
	v.Data = importData{}
	fh, err := c.FormFile("file")
	if err != nil {
		v.Errors = map[string]string{"file": v.T("import.choose_file")}
		v.Flash, v.Notice = v.T("form.fix_errors"), "error"
		c.Status(http.StatusUnprocessableEntity)
		return f.render(c, "user_import", v)
	}
	r, err := fh.Open()
	if err != nil {
		return fmt.Errorf("opening the uploaded staff list: %w", err)
	}
	defer r.Close()
	res, err := f.d.Accounts.ImportUsers(c.UserContext(), p, r)
	if err != nil {
		status, ok := v.formFailed(err, "error.conflict.text")
		if !ok {
			return err
		}
		if status == http.StatusUnprocessableEntity || status == http.StatusRequestEntityTooLarge {
			// The file could not be read at all; the service says which line and why.
			v.Errors = map[string]string{"file": v.T("import.unreadable", err.Error())}
		}
		c.Status(status)
		return f.render(c, "user_import", v)
	}
	v.Data = importData{Done: true, Result: res}
	if len(res.Errors) == 0 {
		v.Flash, v.Notice = v.T("import.done", res.Created, res.Updated), "ok"
	} else {
		v.Flash, v.Notice = v.T("import.done_with_errors", res.Created, res.Updated, len(res.Errors)), "info"
	}
	f.pageHeaders(c, true)
	return f.render(c, "user_import", v)
}

type editUserData struct {
	Target accounts.User
	Tree   unitTree
	Roles  []accounts.Role
}

// HasRole reports whether the edited user holds role r (or, after a refused save, whether
// it was ticked).
func (v *view) HasRole(u accounts.User, r accounts.Role) bool {
	if v.Form != nil {
		return strings.Contains(" "+v.Form["roles"]+" ", " "+string(r)+" ")
	}
	return u.Has(r)
}

// editUserPage lets a personnel officer change a person's unit, position, roles and
// activation, or set a new password.
func (f *Frontend) editUserPage(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	v := f.newView(c, "users")
	if c.Query("ok") == "saved" {
		v.Flash, v.Notice = v.T("flash.saved"), "ok"
	}
	return f.renderEditUser(c, v, p)
}

func (f *Frontend) renderEditUser(c *fiber.Ctx, v *view, p accounts.Principal) error {
	u, err := f.d.Accounts.FindUserByID(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	// Staff may read any user, but the edit form is for the units one manages: saving it
	// would be refused anyway.
	everything, ids, err := f.d.Accounts.ManagedUnitIDs(c.UserContext(), p.User)
	if err != nil {
		return err
	}
	if !everything && !slices.Contains(ids, u.UnitID) {
		return fmt.Errorf("user %s is in a unit you do not manage: %w", u.ID, errs.ErrForbidden)
	}
	tree, err := f.managedTree(c, p)
	if err != nil {
		return err
	}
	v.Data = editUserData{Target: u, Tree: tree, Roles: accounts.Roles}
	return f.render(c, "user_edit", v)
}

func (f *Frontend) updateUser(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	var roles []accounts.Role
	c.Request().PostArgs().VisitAll(func(k, val []byte) {
		if string(k) == "roles" {
			roles = append(roles, accounts.Role(val))
		}
	})
	fullName, unitID, position, email := c.FormValue("full_name"), c.FormValue("unit_id"), c.FormValue("position"), c.FormValue("email")
	active := c.FormValue("active") != ""
	patch := accounts.UserPatch{FullName: &fullName, UnitID: &unitID, Position: &position, Email: &email, Roles: &roles, Active: &active}
	if pw := c.FormValue("password"); pw != "" {
		patch.Password = &pw
	}
	if _, err := f.d.Accounts.UpdateUser(c.UserContext(), p, c.Params("id"), patch); err != nil {
		v := f.newView(c, "users")
		status, ok := v.formFailed(err, "error.conflict.text")
		if !ok {
			return err
		}
		v.Form = formValues(c, "full_name", "unit_id", "position", "email", "active")
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = string(r)
		}
		v.Form["roles"] = strings.Join(names, " ")
		c.Status(status)
		return f.renderEditUser(c, v, p)
	}
	return c.Redirect("/admin/users/"+c.Params("id")+"?ok=saved", http.StatusSeeOther)
}
