package accounts

import (
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/text/unicode/norm"

	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

func TestCreateUser(t *testing.T) {
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	snv := e.unit(t, e.admin, "Sở Nội vụ", "HN-SNV", hn.ID)
	hcm := e.unit(t, e.admin, "Hồ Chí Minh", "HCM", "")
	officer := e.user(t, "tcb", "Cán bộ tổ chức", snv.ID, RoleUnitAdmin)
	learner := e.user(t, "hocvien", "Học viên", snv.ID)

	u, err := e.s.CreateUser(e.ctx, as(officer), NewUser{
		Username: " Nguyen.Van-Cu ", Password: "mật khẩu 123", FullName: " Nguyễn Văn Cừ ", Email: " Cu@Example.VN ",
		UnitID: snv.ID, Position: "Chuyên viên", Roles: []Role{RoleTrainer, RoleLearner, RoleTrainer},
	})
	if err != nil {
		t.Fatalf("CreateUser by unit_admin: %v", err)
	}
	if u.Username != "nguyen.van-cu" || u.FullName != "Nguyễn Văn Cừ" || u.Email != "cu@example.vn" ||
		!slices.Equal(u.Roles, []Role{RoleTrainer, RoleLearner}) || !u.Active || u.Language != "vi" || u.PasswordHash != "" {
		t.Fatalf("created %+v", u)
	}
	var stored User
	if err := e.db.Database.Collection(UsersCollection).FindOne(e.ctx, bson.M{"_id": u.ID}).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	if ok, err := VerifyPassword("mật khẩu 123", stored.PasswordHash); !ok || err != nil {
		t.Fatalf("stored hash does not verify: %v %v", ok, err)
	}
	if stored.NameFold != "nguyen van cu nguyen.van-cu" {
		t.Fatalf("name_fold %q", stored.NameFold)
	}

	before := e.snapshot(t)
	valid := func(mod func(*NewUser)) NewUser {
		n := NewUser{Username: "newuser", Password: "mật khẩu 123", FullName: "Người Mới", UnitID: snv.ID}
		mod(&n)
		return n
	}
	bad := []struct {
		name  string
		actor Principal
		in    NewUser
		want  error
		field string
	}{
		{"duplicate username", e.admin, valid(func(n *NewUser) { n.Username = "NGUYEN.VAN-CU" }), errs.ErrConflict, ""},
		{"unknown unit", e.admin, valid(func(n *NewUser) { n.UnitID = ids.New() }), errs.ErrInvalid, "unit_id"},
		{"no unit", e.admin, valid(func(n *NewUser) { n.UnitID = "" }), errs.ErrInvalid, "unit_id"},
		{"bad username", e.admin, valid(func(n *NewUser) { n.Username = "người" }), errs.ErrInvalid, "username"},
		{"short username", e.admin, valid(func(n *NewUser) { n.Username = "ab" }), errs.ErrInvalid, "username"},
		{"short password", e.admin, valid(func(n *NewUser) { n.Password = "1234567" }), errs.ErrInvalid, "password"},
		{"no name", e.admin, valid(func(n *NewUser) { n.FullName = " " }), errs.ErrInvalid, "full_name"},
		{"bad email", e.admin, valid(func(n *NewUser) { n.Email = "not-an-address" }), errs.ErrInvalid, "email"},
		{"bad role", e.admin, valid(func(n *NewUser) { n.Roles = []Role{"boss"} }), errs.ErrInvalid, "roles"},
		{"bad language", e.admin, valid(func(n *NewUser) { n.Language = "fr" }), errs.ErrInvalid, "language"},
		{"admin units of a learner", e.admin, valid(func(n *NewUser) { n.AdminUnitIDs = []string{snv.ID} }), errs.ErrInvalid, "admin_unit_ids"},
		{"unknown admin unit", e.admin, valid(func(n *NewUser) {
			n.Roles = []Role{RoleUnitAdmin}
			n.AdminUnitIDs = []string{ids.New()}
		}), errs.ErrInvalid, "admin_unit_ids"},
		{"unit_admin outside scope", as(officer), valid(func(n *NewUser) { n.UnitID = hcm.ID }), errs.ErrForbidden, ""},
		{"unit_admin above scope", as(officer), valid(func(n *NewUser) { n.UnitID = hn.ID }), errs.ErrForbidden, ""},
		{"unit_admin grants admin", as(officer), valid(func(n *NewUser) { n.Roles = []Role{RoleAdmin} }), errs.ErrForbidden, ""},
		{"unit_admin grants foreign scope", as(officer), valid(func(n *NewUser) {
			n.Roles = []Role{RoleUnitAdmin}
			n.AdminUnitIDs = []string{hcm.ID}
		}), errs.ErrForbidden, ""},
		{"learner creates", as(learner), valid(func(*NewUser) {}), errs.ErrForbidden, ""},
		{"trainer creates", as(u), valid(func(*NewUser) {}), errs.ErrForbidden, ""},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.s.CreateUser(e.ctx, tt.actor, tt.in)
			wantErr(t, err, tt.want)
			if tt.field != "" {
				wantField(t, err, tt.field)
			}
			e.unchanged(t, before)
		})
	}

	// A unit_admin may create a unit_admin for a sub-unit of their scope.
	sub := e.unit(t, e.admin, "Phòng", "HN-SNV-P", snv.ID)
	if _, err := e.s.CreateUser(e.ctx, as(officer), valid(func(n *NewUser) {
		n.Roles = []Role{RoleUnitAdmin}
		n.AdminUnitIDs = []string{sub.ID}
	})); err != nil {
		t.Fatalf("unit_admin creates a sub-unit admin: %v", err)
	}
}

func TestReadAndUpdateUser(t *testing.T) {
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	snv := e.unit(t, e.admin, "Sở Nội vụ", "HN-SNV", hn.ID)
	hcm := e.unit(t, e.admin, "Hồ Chí Minh", "HCM", "")
	officer := e.user(t, "tcb", "Cán bộ tổ chức", snv.ID, RoleUnitAdmin)
	learner := e.user(t, "hocvien", "Học viên", snv.ID)
	other := e.user(t, "hocvien2", "Học viên Hai", hcm.ID)
	trainer := e.user(t, "giangvien", "Giảng viên", hcm.ID, RoleTrainer)
	boss := e.user(t, "quantri", "Quản trị", snv.ID, RoleAdmin)

	// Reading.
	if got, err := e.s.FindUserByID(e.ctx, as(learner), learner.ID); err != nil || got.ID != learner.ID || got.PasswordHash != "" {
		t.Fatalf("self read = %+v, %v", got, err)
	}
	_, err := e.s.FindUserByID(e.ctx, as(learner), other.ID)
	wantErr(t, err, errs.ErrNotFound)
	if _, err := e.s.FindUserByID(e.ctx, as(trainer), learner.ID); err != nil {
		t.Fatalf("trainer reads: %v", err)
	}
	if _, err := e.s.FindUserByID(e.ctx, as(officer), other.ID); err != nil {
		t.Fatalf("unit_admin reads: %v", err)
	}
	_, err = e.s.FindUserByID(e.ctx, e.admin, ids.New())
	wantErr(t, err, errs.ErrNotFound)
	found, err := e.s.FindUsersByIDs(e.ctx, []string{learner.ID, other.ID, ids.New()})
	if err != nil || len(found) != 2 {
		t.Fatalf("FindUsersByIDs = %v, %v", found, err)
	}

	// Updating: scope and grants.
	str := func(s string) *string { return &s }
	roles := func(r ...Role) *[]Role { return &r }
	before := e.snapshot(t)
	bad := []struct {
		name  string
		actor Principal
		id    string
		p     UserPatch
		want  error
	}{
		{"unit_admin moves a user out of scope", as(officer), learner.ID, UserPatch{UnitID: &hcm.ID}, errs.ErrForbidden},
		{"unit_admin edits a user out of scope", as(officer), other.ID, UserPatch{Position: str("X")}, errs.ErrForbidden},
		{"unit_admin grants admin", as(officer), learner.ID, UserPatch{Roles: roles(RoleAdmin)}, errs.ErrForbidden},
		{"unit_admin edits an admin", as(officer), boss.ID, UserPatch{Active: new(false)}, errs.ErrForbidden},
		{"unit_admin grants a foreign scope", as(officer), learner.ID, UserPatch{Roles: roles(RoleUnitAdmin), AdminUnitIDs: &[]string{hcm.ID}}, errs.ErrForbidden},
		{"trainer edits someone", as(trainer), learner.ID, UserPatch{Position: str("X")}, errs.ErrForbidden},
		{"learner edits someone", as(learner), other.ID, UserPatch{Email: str("a@b.vn")}, errs.ErrNotFound},
		{"unknown unit", e.admin, learner.ID, UserPatch{UnitID: str(ids.New())}, errs.ErrInvalid},
		{"bad role", e.admin, learner.ID, UserPatch{Roles: roles("boss")}, errs.ErrInvalid},
		{"admin deactivates self", as(boss), boss.ID, UserPatch{Active: new(false)}, errs.ErrInvalid},
		{"admin drops own admin role", as(boss), boss.ID, UserPatch{Roles: roles(RoleLearner)}, errs.ErrInvalid},
		{"short password", e.admin, learner.ID, UserPatch{Password: str("short")}, errs.ErrInvalid},
		{"empty full name", e.admin, learner.ID, UserPatch{FullName: str("")}, errs.ErrInvalid},
		{"unknown user", e.admin, ids.New(), UserPatch{Position: str("X")}, errs.ErrNotFound},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.s.UpdateUser(e.ctx, tt.actor, tt.id, tt.p)
			wantErr(t, err, tt.want)
			e.unchanged(t, before)
		})
	}

	// Good updates.
	got, err := e.s.UpdateUser(e.ctx, as(officer), learner.ID, UserPatch{FullName: str("Học Viên Mới"), Position: str("Phó phòng"), Roles: roles(RoleLearner, RoleTrainer)})
	if err != nil {
		t.Fatal(err)
	}
	if got.FullName != "Học Viên Mới" || got.Position != "Phó phòng" || !slices.Equal(got.Roles, []Role{RoleTrainer, RoleLearner}) || got.PasswordHash != "" {
		t.Fatalf("updated %+v", got)
	}
	page, err := e.s.ListUsers(e.ctx, e.admin, UserFilter{Q: "hoc vien moi"})
	if err != nil || page.Total != 1 {
		t.Fatalf("name_fold not updated: %+v %v", page, err)
	}
	// Users change their own e-mail and language.
	got, err = e.s.UpdateUser(e.ctx, as(other), other.ID, UserPatch{Email: str("hv2@example.vn"), Language: str("en")})
	if err != nil || got.Email != "hv2@example.vn" || got.Language != "en" {
		t.Fatalf("self update = %+v, %v", got, err)
	}
	got, err = e.s.UpdateUser(e.ctx, as(other), other.ID, UserPatch{Email: str("")})
	if err != nil || got.Email != "" {
		t.Fatalf("clear e-mail = %+v, %v", got, err)
	}
	// A role change shows on the next request of a signed-in user.
	res, err := e.s.Login(e.ctx, "hocvien2", "mật khẩu hocvien2", "")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := e.s.Authenticate(e.ctx, res.Token); err != nil || p.Has(RoleLecturer) {
		t.Fatalf("before: %+v %v", p, err)
	}
	if _, err := e.s.UpdateUser(e.ctx, e.admin, other.ID, UserPatch{Roles: roles(RoleLecturer)}); err != nil {
		t.Fatal(err)
	}
	if p, err := e.s.Authenticate(e.ctx, res.Token); err != nil || !p.Has(RoleLecturer) {
		t.Fatalf("after: %+v %v", p, err)
	}
	// Dropping unit_admin clears the admin units.
	sub := e.unit(t, e.admin, "Phòng", "HN-SNV-P", snv.ID)
	got, err = e.s.UpdateUser(e.ctx, as(officer), learner.ID, UserPatch{Roles: roles(RoleUnitAdmin), AdminUnitIDs: &[]string{sub.ID}})
	if err != nil || !slices.Equal(got.AdminUnitIDs, []string{sub.ID}) {
		t.Fatalf("grant unit_admin = %+v, %v", got, err)
	}
	got, err = e.s.UpdateUser(e.ctx, as(officer), learner.ID, UserPatch{Roles: roles(RoleLearner)})
	if err != nil || len(got.AdminUnitIDs) != 0 {
		t.Fatalf("drop unit_admin = %+v, %v", got, err)
	}
}

func TestListUsersSearch(t *testing.T) {
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	snv := e.unit(t, e.admin, "Sở Nội vụ", "HN-SNV", hn.ID)
	phong := e.unit(t, e.admin, "Phòng", "HN-SNV-P", snv.ID)
	hcm := e.unit(t, e.admin, "Hồ Chí Minh", "HCM", "")
	e.user(t, "vancu", "Nguyễn Văn Cừ", phong.ID)
	cuong := e.user(t, "cuong", "Nguyễn Văn Cường", snv.ID, RoleLecturer)
	e.user(t, "dtdao", "Đặng Thị Đào", hcm.ID)
	e.user(t, "an.le", "Lê An", hn.ID, RoleTrainer)
	e.user(t, "odd", "Trần (Văn) *B*", hcm.ID)
	officer := e.user(t, "tcb", "Cán bộ tổ chức", snv.ID, RoleUnitAdmin)
	learner := e.user(t, "hocvien", "Học viên", snv.ID)
	off := false
	if _, err := e.s.UpdateUser(e.ctx, e.admin, learner.ID, UserPatch{Active: &off}); err != nil {
		t.Fatal(err)
	}

	nfd := norm.NFD.String("Nguyễn Văn Cừ")
	tests := []struct {
		name  string
		actor Principal
		f     UserFilter
		want  []string
	}{
		{"folded query", e.admin, UserFilter{Q: "nguyen van cu"}, []string{"vancu", "cuong"}},
		{"upper case with accents", e.admin, UserFilter{Q: "NGUYỄN"}, []string{"vancu", "cuong"}},
		{"exact accents", e.admin, UserFilter{Q: "Cừ"}, []string{"vancu", "cuong"}},
		{"NFD input", e.admin, UserFilter{Q: nfd}, []string{"vancu", "cuong"}},
		{"NFD word", e.admin, UserFilter{Q: norm.NFD.String("Cừ vancu")}, []string{"vancu"}},
		{"đ as d", e.admin, UserFilter{Q: "dang thi dao"}, []string{"dtdao"}},
		{"Đ typed", e.admin, UserFilter{Q: "ĐÀO"}, []string{"dtdao"}},
		{"by username", e.admin, UserFilter{Q: "an.le"}, []string{"an.le"}},
		{"regex characters are literal", e.admin, UserFilter{Q: "(văn) *b"}, []string{"odd"}},
		{"regex characters match nothing", e.admin, UserFilter{Q: ".*"}, nil},
		{"extra spaces", e.admin, UserFilter{Q: "  nguyễn   văn  "}, []string{"vancu", "cuong"}},
		{"all, sorted by name", e.admin, UserFilter{}, []string{"tcb", "dtdao", "hocvien", "an.le", "vancu", "cuong", "odd"}},
		{"unit", e.admin, UserFilter{UnitID: snv.ID}, []string{"tcb", "hocvien", "cuong"}},
		{"unit with subunits", e.admin, UserFilter{UnitID: snv.ID, Subunits: true}, []string{"tcb", "hocvien", "vancu", "cuong"}},
		{"role", e.admin, UserFilter{Role: RoleTrainer}, []string{"an.le"}},
		{"unit_admin sees only their subtree", as(officer), UserFilter{}, []string{"tcb", "hocvien", "vancu", "cuong"}},
		{"unit_admin searching", as(officer), UserFilter{Q: "nguyen"}, []string{"vancu", "cuong"}},
		{"unit_admin by sub-unit", as(officer), UserFilter{UnitID: phong.ID}, []string{"vancu"}},
		{"lecturer sees everyone", as(cuong), UserFilter{Q: "dao"}, []string{"dtdao"}},
		{"paging", e.admin, UserFilter{Limit: 2, Offset: 1}, []string{"dtdao", "hocvien"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := e.s.ListUsers(e.ctx, tt.actor, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := usernames(page.Items); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if tt.f.Limit == 0 && page.Total != len(tt.want) {
				t.Errorf("total %d, want %d", page.Total, len(tt.want))
			}
			for _, u := range page.Items {
				if u.PasswordHash != "" {
					t.Fatal("a password hash left the package")
				}
			}
		})
	}
	page, err := e.s.ListUsers(e.ctx, e.admin, UserFilter{Limit: 2, Offset: 1})
	if err != nil || page.Total != 7 {
		t.Fatalf("paging total = %d, %v", page.Total, err)
	}

	_, err = e.s.ListUsers(e.ctx, as(learner), UserFilter{})
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.s.ListUsers(e.ctx, as(officer), UserFilter{UnitID: hcm.ID})
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.s.ListUsers(e.ctx, e.admin, UserFilter{Role: "boss"})
	wantField(t, err, "role")
	_, err = e.s.ListUsers(e.ctx, e.admin, UserFilter{UnitID: ids.New(), Subunits: true})
	wantField(t, err, "unit_id")

	// Active users of units, for enrolment.
	in, err := e.s.ListUsersInUnits(e.ctx, []string{snv.ID, phong.ID})
	if err != nil || !slices.Equal(usernames(in), []string{"tcb", "vancu", "cuong"}) {
		t.Fatalf("ListUsersInUnits = %v, %v", usernames(in), err)
	}
}
