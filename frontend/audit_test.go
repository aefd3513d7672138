package frontend

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"hoctap/accounts"
	"hoctap/audit"
	"hoctap/audit/trail"
	"hoctap/internal/dbtest"
)

// newAuditWorld is the real accounts service recording into the real audit log, with
// only the account and audit pages wired (the other areas answer 503).
func newAuditWorld(t *testing.T) (w *learnWorld, province, district accounts.Unit) {
	t.Helper()
	ctx := context.Background()
	db := dbtest.New(t)
	acc := accounts.NewService(db.Database, accounts.Config{Argon2: accounts.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}, time.Now)
	if err := acc.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	log := audit.New(audit.Config{DB: db.Database, Units: acc})
	if err := log.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	acc.SetAuditor(log)
	if _, _, err := acc.EnsureAdmin(ctx, "admin-password-1"); err != nil {
		t.Fatal(err)
	}
	res, err := acc.Login(ctx, "admin", "admin-password-1", "")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := acc.Authenticate(ctx, res.Token)
	if err != nil {
		t.Fatal(err)
	}
	prov, err := acc.CreateUnit(ctx, admin, accounts.NewUnit{Name: "Tỉnh Hà Giang", Code: "HG"})
	if err != nil {
		t.Fatal(err)
	}
	dist, err := acc.CreateUnit(ctx, admin, accounts.NewUnit{Name: "Huyện Đồng Văn", Code: "HG-DV", ParentID: prov.ID})
	if err != nil {
		t.Fatal(err)
	}
	app := testApp(t, acc, Deps{Accounts: acc, Audit: log})
	return &learnWorld{app: app, acc: acc, adminP: admin, admin: res.Token}, prov, dist
}

func TestAuditPage(t *testing.T) {
	w, _, dist := newAuditWorld(t)
	ctx := context.Background()
	hostile := `<script>alert("x")</script> Lò Văn Páo`
	if _, err := w.acc.CreateUser(ctx, w.adminP, accounts.NewUser{Username: "lo.van.pao", Password: "password-123", FullName: hostile, UnitID: dist.ID}); err != nil {
		t.Fatal(err)
	}
	officer, _ := w.staffToken(t, "can.bo.tc", []accounts.Role{accounts.RoleUnitAdmin}, dist.ID)
	learnerTok, _ := w.staffToken(t, "hoc.vien", []accounts.Role{accounts.RoleLearner})
	lecturerTok, _ := w.staffToken(t, "giang.vien", []accounts.Role{accounts.RoleLecturer})

	status, body := w.do(t, w.admin, http.MethodGet, "/admin/audit", nil)
	text := visible(body)
	if status != http.StatusOK {
		t.Fatalf("the admin's audit page: %d\n%s", status, text)
	}
	for _, want := range []string{"Nhật ký hệ thống", "Tạo đơn vị", "Tạo tài khoản", "HG-DV", "lo.van.pao", "6 mục"} {
		if !strings.Contains(text, want) {
			t.Errorf("the audit page lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(body, `href="/admin/audit"`) {
		t.Error("the navigation has no link to the audit log")
	}
	// The details are text, never markup.
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert") {
		t.Errorf("hostile details are not escaped:\n%s", body)
	}
	if !strings.Contains(body, `href="/api/v1/audit?format=csv"`) {
		t.Error("no CSV link")
	}

	// Filters: one action, and a range of days that holds today.
	today := time.Now().In(vietnam).Format("02/01/2006")
	status, body = w.do(t, w.admin, http.MethodGet, "/admin/audit?action=unit.create&since="+today+"&until="+today, nil)
	if text := visible(body); status != http.StatusOK || !strings.Contains(text, "2 mục") || strings.Contains(text, "lo.van.pao") {
		t.Errorf("unit creations today: %d\n%s", status, text)
	}
	if !strings.Contains(body, `href="/api/v1/audit?action=unit.create&amp;format=csv&amp;since=`) {
		t.Errorf("the CSV link does not keep the filter:\n%s", body)
	}
	if _, body := w.do(t, w.admin, http.MethodGet, "/admin/audit?until=01/01/2001", nil); !strings.Contains(visible(body), "Không có mục nào phù hợp.") {
		t.Errorf("an old range:\n%s", visible(body))
	}
	// Bad days are shown on the form, in words.
	status, body = w.do(t, w.admin, http.MethodGet, "/admin/audit?since=31-12-2025&until=01/01/2025", nil)
	if text := visible(body); status != http.StatusUnprocessableEntity || !strings.Contains(text, "Hãy viết ngày theo dạng dd/mm/yyyy.") ||
		!strings.Contains(body, `id="since-err"`) || !strings.Contains(body, `value="31-12-2025"`) {
		t.Errorf("a bad day: %d\n%s", status, text)
	}
	status, body = w.do(t, w.admin, http.MethodGet, "/admin/audit?since=02/01/2025&until=01/01/2025", nil)
	if status != http.StatusUnprocessableEntity || !strings.Contains(visible(body), "Ngày kết thúc trước ngày bắt đầu.") {
		t.Errorf("until before since: %d\n%s", status, visible(body))
	}

	// The district's officer sees the district's entries only; others may not look.
	_, body = w.do(t, officer, http.MethodGet, "/admin/audit", nil)
	if text := visible(body); !strings.Contains(text, "lo.van.pao") || !strings.Contains(text, "2 mục") || strings.Contains(text, "hoc.vien") {
		t.Errorf("the officer's page:\n%s", text)
	}
	for _, tok := range []string{learnerTok, lecturerTok} {
		if status, _ := w.do(t, tok, http.MethodGet, "/admin/audit", nil); status != http.StatusForbidden {
			t.Errorf("a learner or lecturer at /admin/audit: %d, want 403", status)
		}
	}

	// Pages of 50.
	for i := range 50 {
		if _, err := w.acc.CreateUnit(ctx, w.adminP, accounts.NewUnit{Name: fmt.Sprintf("Xã %d", i), Code: fmt.Sprintf("HG-X%02d", i), ParentID: dist.ID}); err != nil {
			t.Fatal(err)
		}
	}
	_, body = w.do(t, w.admin, http.MethodGet, "/admin/audit?action=unit.create", nil)
	if !strings.Contains(body, `rel="next"`) {
		t.Errorf("no pager on 52 entries:\n%s", visible(body))
	}
	_, body = w.do(t, w.admin, http.MethodGet, "/admin/audit?action=unit.create&page=2", nil)
	if !strings.Contains(body, `rel="prev"`) || !strings.Contains(visible(body), "HG-DV") {
		t.Errorf("page 2:\n%s", visible(body))
	}
}

// Every action has a name in both languages.
func TestAuditActionNames(t *testing.T) {
	cs, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range trail.Actions {
		for _, lang := range Languages {
			if _, ok := cs[lang]["auditaction."+string(a)]; !ok {
				t.Errorf("i18n/%s.json has no name for the audit action %s", lang, a)
			}
		}
	}
}
