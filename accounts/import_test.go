package accounts

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

func TestImportUsers(t *testing.T) {
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	snv := e.unit(t, e.admin, "Sở Nội vụ", "HN-SNV", hn.ID)
	hcm := e.unit(t, e.admin, "Hồ Chí Minh", "HCM", "")
	officer := e.user(t, "tcb", "Cán bộ tổ chức", hn.ID, RoleUnitAdmin)
	existing := e.user(t, "nvcu", "Nguyen Van Cu", hn.ID)
	e.user(t, "quantri", "Quản trị", hn.ID, RoleAdmin)
	e.user(t, "xa.la", "Người Xa Lạ", hcm.ID)

	// A spreadsheet export: BOM, semicolons, CRLF, quoted cells, a blank line.
	file := "\uFEFFSTT;username;full_name;unit_code;position;email;password;roles\r\n" +
		"1;nvcu;Nguyễn Văn Cừ;HN-SNV;Trưởng phòng;cu@example.vn;;trainer|learner\r\n" + // line 2: update
		"2;ttb;\"Trần Thị B; Phó\";HN;Chuyên viên;;bimat1234;\r\n" + // line 3: create with password
		"3;lvc;Lê Văn C;HN-SNV;;lvc@example.vn;;learner lecturer\r\n" + // line 4: create, random password
		"4;bad user;Tên;HN;;;;\r\n" + // line 5: invalid username
		"5;khongdonvi;Tên;XX;;;;\r\n" + // line 6: unknown unit code
		"6;ngoai;Tên;HCM;;;;\r\n" + // line 7: unit outside the officer's scope
		"7;quyen;Tên;HN;;;;boss\r\n" + // line 8: bad role
		"8;ttb;Trùng Lặp;HN;;;;\r\n" + // line 9: username repeated
		"\r\n" +
		"9;quantri;Quản trị;HN;;;;\r\n" + // line 11: an admin the officer may not change
		"10;sep;Sếp;HN;;;;admin\r\n" + // line 12: the officer may not grant admin
		"11;ngan;Tên;HN;;;short;\r\n" + // line 13: short password
		"12;xa.la;Người Xa Lạ;HN;;;;\r\n" + // line 14: existing user outside the scope
		"13;thieuten;;HN;;;;\r\n" // line 15: no full name
	res, err := e.s.ImportUsers(e.ctx, as(officer), strings.NewReader(file))
	if err != nil {
		t.Fatalf("ImportUsers: %v", err)
	}
	if res.Created != 2 || res.Updated != 1 {
		t.Errorf("created %d updated %d, want 2 and 1", res.Created, res.Updated)
	}
	var lines []int
	for _, er := range res.Errors {
		lines = append(lines, er.Line)
		if er.Message == "" {
			t.Errorf("line %d: empty message", er.Line)
		}
	}
	if want := []int{5, 6, 7, 8, 9, 11, 12, 13, 14, 15}; !slices.Equal(lines, want) {
		t.Errorf("error lines %v, want %v\n%+v", lines, want, res.Errors)
	}
	msg := func(line int) string {
		for _, er := range res.Errors {
			if er.Line == line {
				return er.Message
			}
		}
		return ""
	}
	for line, part := range map[int]string{5: "username", 6: "XX", 7: "HCM", 8: "boss", 9: "line 3", 13: "password", 15: "full_name"} {
		if !strings.Contains(msg(line), part) {
			t.Errorf("line %d message %q does not mention %q", line, msg(line), part)
		}
	}

	// The update.
	page, err := e.s.ListUsers(e.ctx, e.admin, UserFilter{Q: "cừ"})
	if err != nil || page.Total != 1 {
		t.Fatalf("search after import: %+v %v", page, err)
	}
	u := page.Items[0]
	if u.ID != existing.ID || u.FullName != "Nguyễn Văn Cừ" || u.UnitID != snv.ID || u.Position != "Trưởng phòng" ||
		u.Email != "cu@example.vn" || !slices.Equal(u.Roles, []Role{RoleTrainer, RoleLearner}) {
		t.Errorf("updated user %+v", u)
	}
	if _, err := e.s.Login(e.ctx, "nvcu", "mật khẩu nvcu", ""); err != nil {
		t.Errorf("the import changed an existing password: %v", err)
	}
	// The creations: the given password, and a generated one reported once.
	if _, err := e.s.Login(e.ctx, "ttb", "bimat1234", ""); err != nil {
		t.Errorf("login with the imported password: %v", err)
	}
	if len(res.GeneratedPasswords) != 1 || res.GeneratedPasswords[0].Username != "lvc" || res.GeneratedPasswords[0].Line != 4 {
		t.Fatalf("generated passwords %+v", res.GeneratedPasswords)
	}
	res0Password := res.GeneratedPasswords[0].Password
	lvc, err := e.s.Login(e.ctx, "lvc", res0Password, "")
	if err != nil {
		t.Fatalf("login with the generated password: %v", err)
	}
	if lvc.User.FullName != "Lê Văn C" || lvc.User.UnitID != snv.ID || !slices.Equal(lvc.User.Roles, []Role{RoleLecturer, RoleLearner}) ||
		lvc.User.Email != "lvc@example.vn" || !lvc.User.Active {
		t.Errorf("created user %+v", lvc.User)
	}
	ttb, err := e.s.ListUsers(e.ctx, e.admin, UserFilter{Q: "tran thi b; pho"})
	if err != nil || ttb.Total != 1 || !slices.Equal(ttb.Items[0].Roles, []Role{RoleLearner}) || ttb.Items[0].UnitID != hn.ID {
		t.Fatalf("ttb = %+v, %v", ttb, err)
	}
	for _, name := range []string{"khongdonvi", "ngoai", "quyen", "sep", "ngan", "thieuten"} {
		if n, _ := e.db.Database.Collection(UsersCollection).CountDocuments(e.ctx, bson.M{"username": name}); n != 0 {
			t.Errorf("bad line for %s was stored", name)
		}
	}

	// Importing the same file again changes no passwords and creates nobody; it writes
	// nothing at all (not even updated_at), since no line changes its user.
	before := e.snapshot(t)
	e.clk.Advance(time.Hour)
	res, err = e.s.ImportUsers(e.ctx, as(officer), strings.NewReader(file))
	if err != nil || res.Created != 0 || res.Updated != 3 || len(res.GeneratedPasswords) != 0 {
		t.Fatalf("re-import = %+v, %v", res, err)
	}
	e.unchanged(t, before)
	// A line that changes its user is still written among unchanged ones.
	changed := strings.Replace(file, "Lê Văn C;HN-SNV;;", "Lê Văn C;HN-SNV;Phó phòng;", 1)
	res, err = e.s.ImportUsers(e.ctx, as(officer), strings.NewReader(changed))
	if err != nil || res.Created != 0 || res.Updated != 3 {
		t.Fatalf("re-import with a change = %+v, %v", res, err)
	}
	if got, err := e.s.ListUsers(e.ctx, e.admin, UserFilter{Q: "lvc"}); err != nil || got.Total != 1 || got.Items[0].Position != "Phó phòng" ||
		!got.Items[0].UpdatedAt.Equal(e.clk.Now()) {
		t.Fatalf("the changed line was not written: %+v, %v", got, err)
	}
	if _, err := e.s.Login(e.ctx, "lvc", res0Password, ""); err != nil {
		t.Fatalf("re-import changed a password: %v", err)
	}
}

func TestImportBadFileChangesNothing(t *testing.T) {
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	e.user(t, "nvcu", "Nguyen Van Cu", hn.ID)
	learner := e.user(t, "hocvien", "Học viên", hn.ID)
	before := e.snapshot(t)
	tests := []struct {
		name, file string
		actor      Principal
		want       error
		mention    string
	}{
		{"broken quoting after good lines", "username,full_name,unit_code\nnvcu,Nguyễn Văn Cừ,HN\nmoi,Người Mới,HN\nhong,\"Hỏng,HN\nkhac,Khác,HN\n", e.admin, errs.ErrInvalid, "line 4"},
		{"stray quote", "username;full_name;unit_code\r\nmoi;Người \"Mới\";HN\r\n", e.admin, errs.ErrInvalid, "line 2"},
		{"missing header columns", "username,full_name\nmoi,Người Mới\n", e.admin, errs.ErrInvalid, "unit_code"},
		{"empty", "", e.admin, errs.ErrInvalid, "empty"},
		{"not UTF-8", "username,full_name,unit_code\nmoi,Ng\xfd\xe9n,HN\n", e.admin, errs.ErrInvalid, "line 2"},
		{"too many rows", "username,full_name,unit_code\n" + strings.Repeat("moi,Người Mới,HN\n", MaxImportRows+1), e.admin, errs.ErrTooLarge, ""},
		{"learner imports", "username,full_name,unit_code\nmoi,Người Mới,HN\n", as(learner), errs.ErrForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.s.ImportUsers(e.ctx, tt.actor, strings.NewReader(tt.file))
			wantErr(t, err, tt.want)
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("err %v does not mention %q", err, tt.mention)
			}
			if res.Created != 0 || res.Updated != 0 {
				t.Errorf("result %+v", res)
			}
			e.unchanged(t, before)
		})
	}
}

func TestImportManyRowsInBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 2,500 passwords")
	}
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	var b strings.Builder
	b.WriteString("username,full_name,unit_code,password\n")
	const n = 2500 // more than two bulk-write batches
	for i := range n {
		fmt.Fprintf(&b, "user%04d,Cán Bộ Số %d,HN,mật khẩu %d\n", i, i, i)
	}
	res, err := e.s.ImportUsers(e.ctx, e.admin, strings.NewReader(b.String()))
	if err != nil || res.Created != n || len(res.Errors) != 0 {
		t.Fatalf("import = %d created, %d errors, %v", res.Created, len(res.Errors), err)
	}
	in, err := e.s.ListUsersInUnits(e.ctx, []string{hn.ID})
	if err != nil || len(in) != n {
		t.Fatalf("ListUsersInUnits = %d, %v", len(in), err)
	}
	if _, err := e.s.Login(e.ctx, "user2499", "mật khẩu 2499", ""); err != nil {
		t.Fatal(err)
	}
}

// TestImportWriteRace covers a username created between the look-up and the bulk write:
// that line is reported, the rest of the batch is stored.
func TestImportWriteRace(t *testing.T) {
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Hà Nội", "HN", "")
	taken := e.user(t, "taken", "Đã Có", hn.ID)
	mk := func(line int, name string) importOp {
		return importOp{line: line, create: true, user: User{ID: ids.New(), Username: name, FullName: name, UnitID: hn.ID,
			Roles: []Role{RoleLearner}, Active: true, NameFold: name, PasswordHash: HashPassword("x", cheapArgon)}}
	}
	ops := []importOp{mk(2, "first"), mk(3, "taken"), mk(4, "third"),
		{line: 5, user: taken, set: bson.M{"position": "Chuyên viên"}}}
	failed, err := e.s.writeImport(e.ctx, ops)
	if err != nil {
		t.Fatalf("writeImport: %v", err)
	}
	if len(failed) != 1 || !strings.Contains(failed[1], "taken") {
		t.Fatalf("failed = %v", failed)
	}
	for _, name := range []string{"first", "third"} {
		if n, _ := e.db.Database.Collection(UsersCollection).CountDocuments(e.ctx, bson.M{"username": name}); n != 1 {
			t.Errorf("%s stored %d times", name, n)
		}
	}
	got, err := e.s.FindUserByID(e.ctx, e.admin, taken.ID)
	if err != nil || got.Position != "Chuyên viên" || got.FullName != "Đã Có" {
		t.Fatalf("update in the same batch = %+v, %v", got, err)
	}
}

// TestImportHashCost: a password from the file gets the full argon2 cost, a generated one
// (72 random bits) the cheap one; both sign in.
func TestImportHashCost(t *testing.T) {
	e := newEnv(t, Config{Argon2: DefaultArgon2})
	e.unit(t, e.admin, "Hà Nội", "HN", "")
	res, err := e.s.ImportUsers(e.ctx, e.admin, strings.NewReader(
		"username,full_name,unit_code,password\nchon,Tự Chọn,HN,mật khẩu tự chọn\nsinh,Sinh Ra,HN,\n"))
	if err != nil || res.Created != 2 || len(res.GeneratedPasswords) != 1 {
		t.Fatalf("import = %+v, %v", res, err)
	}
	hashOf := func(name string) string {
		var u User
		if err := e.db.Database.Collection(UsersCollection).FindOne(e.ctx, bson.M{"username": name}).Decode(&u); err != nil {
			t.Fatal(err)
		}
		return u.PasswordHash
	}
	if h := hashOf("chon"); !strings.HasPrefix(h, fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", DefaultArgon2.Memory, DefaultArgon2.Time, DefaultArgon2.Threads)) {
		t.Errorf("given password hash %s", h)
	}
	if h := hashOf("sinh"); !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Errorf("generated password hash %s", h)
	}
	if len(res.GeneratedPasswords[0].Password) < 12 {
		t.Errorf("generated password %q is short", res.GeneratedPasswords[0].Password)
	}
	for name, pw := range map[string]string{"chon": "mật khẩu tự chọn", "sinh": res.GeneratedPasswords[0].Password} {
		if _, err := e.s.Login(e.ctx, name, pw, ""); err != nil {
			t.Errorf("login %s: %v", name, err)
		}
	}
}

// TestImportUpdatesManyUsers changes 130 existing users in one import: more updates than
// FerretDB v1.24 takes in one bulk write without stalling.
func TestImportUpdatesManyUsers(t *testing.T) {
	e := newEnv(t, Config{})
	e.unit(t, e.admin, "Sở Tài chính", "STC", "")
	list := func(position string) string {
		var b strings.Builder
		b.WriteString("username,full_name,unit_code,position\n")
		for i := range 130 {
			fmt.Fprintf(&b, "cv%03d,Chuyên viên %d,STC,%s\n", i, i, position)
		}
		return b.String()
	}
	if res, err := e.s.ImportUsers(e.ctx, e.admin, strings.NewReader(list("Chuyên viên"))); err != nil || res.Created != 130 {
		t.Fatalf("create: %+v, %v", res, err)
	}
	res, err := e.s.ImportUsers(e.ctx, e.admin, strings.NewReader(list("Trưởng phòng")))
	if err != nil || res.Updated != 130 || len(res.Errors) != 0 {
		t.Fatalf("update: %d updated, %d errors, %v", res.Updated, len(res.Errors), err)
	}
	if n, err := e.db.Database.Collection(UsersCollection).CountDocuments(e.ctx, bson.M{"position": "Trưởng phòng"}); err != nil || n != 130 {
		t.Fatalf("%d users updated, want 130 (%v)", n, err)
	}
}
