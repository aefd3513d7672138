package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// eachViewport runs a flow on a desk computer and on a 360 px phone.
func eachViewport(t *testing.T, flow func(t *testing.T, tb *tab, vp string)) {
	for _, v := range viewports {
		t.Run(v.name, func(t *testing.T) { flow(t, newTab(t, v.name), v.name) })
	}
}

func TestSignInAndLanguageSwitch(t *testing.T) {
	unit := createUnit(t, "Xã Tân Lập", "XA-TAN-LAP", "")
	eachViewport(t, func(t *testing.T, tb *tab, vp string) {
		username := "hoc.vien-" + vp
		createUser(t, username, "hocvien-pass-1", "Hoàng Thị Lan", unit)

		tb.open("/")
		if loc := tb.location(); !strings.HasSuffix(loc, "/login") {
			t.Fatalf("an anonymous visit to / landed on %s, want /login", loc)
		}
		if lang := eval[string](tb, `document.documentElement.lang`); lang != "vi" {
			t.Errorf("the sign-in page is in %q, want vi first", lang)
		}
		if h := tb.text("h1"); h != "Đăng nhập Hoctap" {
			t.Errorf("sign-in heading %q", h)
		}
		tb.checkPage("login")

		// A wrong password is refused politely, keeping the username.
		tb.fill("#username", username)
		tb.fill("#password", "wrong-password")
		tb.submit("form[action='/login'] button")
		if n := tb.text(".notice"); n != "Tên đăng nhập hoặc mật khẩu không đúng." {
			t.Errorf("wrong password notice %q", n)
		}
		if v := eval[string](tb, `document.querySelector("#username").value`); v != username {
			t.Errorf("the username field holds %q after a failed sign-in", v)
		}
		tb.checkPage("login-failed")

		tb.fill("#password", "hocvien-pass-1")
		tb.submit("form[action='/login'] button")
		if loc := tb.location(); !strings.HasSuffix(loc, "/learn") {
			t.Fatalf("after signing in a learner is at %s, want /learn", loc)
		}
		if h := tb.text("h1"); h != "Học tập của tôi" {
			t.Errorf("learner home heading %q", h)
		}
		tb.checkPage("learn-empty")
		tb.open("/account")

		// Switch to English: the page, and later pages, are in English.
		tb.submit("header button[name=lang]")
		if lang := eval[string](tb, `document.documentElement.lang`); lang != "en" {
			t.Fatalf("after switching the page is in %q", lang)
		}
		if h := tb.text("h1"); h != "My account" {
			t.Errorf("English account heading %q", h)
		}
		tb.checkPage("account-en")

		// The choice is kept on the account: a new browser signing in gets English.
		other := newTab(t, vp)
		other.signIn(username, "hocvien-pass-1")
		if lang := eval[string](other, `document.documentElement.lang`); lang != "en" {
			t.Errorf("signing in elsewhere shows %q, want the remembered en", lang)
		}

		// Signing out says so, still in English (the cookie remembers it).
		tb.submit("form[action='/logout'] button")
		if n := tb.text(".notice"); n != "You have signed out." {
			t.Errorf("sign-out notice %q", n)
		}
		// Back to Vietnamese, anonymously.
		tb.submit("header button[name=lang]")
		if h := tb.text("h1"); h != "Đăng nhập Hoctap" {
			t.Errorf("after switching back the heading is %q", h)
		}
	})
}

func TestAdminUnitsImportAndSearch(t *testing.T) {
	eachViewport(t, func(t *testing.T, tb *tab, vp string) {
		suffix := strings.ToUpper(vp)
		tb.signIn("admin", adminPassword)
		if loc := tb.location(); !strings.HasSuffix(loc, "/admin/units") {
			t.Fatalf("the admin's home is %s, want /admin/units", loc)
		}

		// Create a department and a section under it through the form.
		tb.fill("#name", "Sở Nội vụ "+vp)
		tb.fill("#code", "SNV-"+suffix)
		tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#parent_id").value = ""`))
		tb.submit("form[action='/admin/units'] button")
		if n := tb.text(".notice"); n != "Đã thêm đơn vị." {
			t.Fatalf("after creating a unit the notice is %q", n)
		}
		tb.fill("#name", "Phòng Tổ chức cán bộ "+vp)
		tb.fill("#code", "PTC-"+suffix)
		selectOption(t, tb, "#parent_id", "Sở Nội vụ "+vp)
		tb.submit("form[action='/admin/units'] button")
		tree := tb.text(".tree")
		if !strings.Contains(tree, "Phòng Tổ chức cán bộ "+vp) || !strings.Contains(tree, "SNV-"+suffix) {
			t.Errorf("the tree lacks the new units:\n%s", tree)
		}
		nested := eval[bool](tb, `[...document.querySelectorAll(".tree li li > a")].some(a => a.textContent === "Phòng Tổ chức cán bộ `+vp+`")`)
		if !nested {
			t.Errorf("the section is not shown under its department")
		}
		tb.checkPage("units")

		// A taken code is refused on the form, which keeps what was typed.
		tb.fill("#name", "Trùng mã")
		tb.fill("#code", "SNV-"+suffix)
		tb.submit("form[action='/admin/units'] button")
		if e := tb.text("#code-error"); e != "Mã đơn vị này đã được dùng." {
			t.Errorf("duplicate code error %q", e)
		}
		if v := eval[string](tb, `document.querySelector("#name").value`); v != "Trùng mã" {
			t.Errorf("the name field holds %q after a refusal", v)
		}

		// Import a staff list with two good lines and two bad ones.
		csv := "username,full_name,unit_code,position,email\n" +
			"cu.nguyen-" + vp + ",Nguyễn Văn Cừ,PTC-" + suffix + ",Chuyên viên,\n" +
			"an.tran-" + vp + ",Trần Thị Ân,SNV-" + suffix + ",Phó Giám đốc,\n" +
			"bad user,Người Sai,SNV-" + suffix + ",,\n" +
			"x-" + vp + ",Lê Văn X,KHONG-CO,,\n"
		file := filepath.Join(t.TempDir(), "danh-sach.csv")
		if err := os.WriteFile(file, []byte(csv), 0o644); err != nil {
			t.Fatal(err)
		}
		tb.open("/admin/users/import")
		tb.checkPage("import")
		tb.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}))
		tb.submit("form[action='/admin/users/import'] button")
		if n := tb.text(".notice"); !strings.Contains(n, "tạo mới 2") || !strings.Contains(n, "2 dòng bị bỏ qua") {
			t.Errorf("import notice %q", n)
		}
		lines := eval[[]string](tb, `[...document.querySelectorAll("table")[0].querySelectorAll("tbody tr td:first-child")].map(td => td.textContent)`)
		if strings.Join(lines, ",") != "4,5" {
			t.Errorf("skipped lines %v, want 4 and 5", lines)
		}
		if n := eval[int](tb, `document.querySelectorAll("table")[1].querySelectorAll("tbody tr").length`); n != 2 {
			t.Errorf("%d initial passwords shown, want 2", n)
		}
		tb.checkPage("import-result")

		// Find a person by the unaccented name within the department and its sections.
		tb.open("/admin/users")
		tb.fill("#q", "nguyen van cu")
		selectOption(t, tb, "#unit_id", "Sở Nội vụ "+vp)
		tb.do(chromedp.Click(chromedp.CSS("#subunits")))
		tb.submit("form[role=search] button")
		names := eval[[]string](tb, `[...document.querySelectorAll("tbody th")].map(th => th.textContent)`)
		if strings.Join(names, "|") != "Nguyễn Văn Cừ" {
			t.Errorf("searching \"nguyen van cu\" found %q", names)
		}
		tb.checkPage("users-search")

		// Open the person, give them the trainer role and a position, save.
		tb.submit("tbody th a")
		if h := tb.text("h1"); h != "Nguyễn Văn Cừ" {
			t.Fatalf("the edit page is for %q", h)
		}
		tb.fill("#position", "Trưởng phòng")
		tb.do(chromedp.Click(chromedp.CSS("#role-trainer")))
		tb.submit("form[action^='/admin/users/'] button.primary")
		if n := tb.text(".notice"); n != "Đã lưu." {
			t.Errorf("after saving a user: %q\n%s", n, tb.mainText())
		}
		if !eval[bool](tb, `document.querySelector("#role-trainer").checked && document.querySelector("#position").value === "Trưởng phòng"`) {
			t.Error("the saved role or position is not shown")
		}
		tb.checkPage("user-edit")
		tb.open("/admin/users")
		tb.fill("#q", "nguyen van cu")
		selectOption(t, tb, "#unit_id", "Sở Nội vụ "+vp)
		tb.do(chromedp.Click(chromedp.CSS("#subunits")))
		tb.submit("form[role=search] button")

		// The whole department, in Vietnamese name order: Ân before Cừ.
		tb.fill("#q", "")
		tb.submit("form[role=search] button")
		names = eval[[]string](tb, `[...document.querySelectorAll("tbody th")].map(th => th.textContent)`)
		if strings.Join(names, "|") != "Trần Thị Ân|Nguyễn Văn Cừ" {
			t.Errorf("the department lists %q, want Trần Thị Ân then Nguyễn Văn Cừ", names)
		}
		tb.checkPage("users")

		// The audit log shows the import just made: filter by action and today.
		tb.open("/admin/audit")
		tb.checkPage("audit")
		selectOption(t, tb, "#action", "Nhập danh sách cán bộ")
		tb.submit("form[role=search] button")
		objects := eval[[]string](tb, `[...document.querySelectorAll("tbody tr td:nth-child(3)")].map(td => td.textContent)`)
		if len(objects) == 0 || objects[0] != "Nhập danh sách cán bộ" {
			t.Errorf("the audit log filtered by import shows %q", objects)
		}
		if href := eval[string](tb, `document.querySelector("a[download]").getAttribute("href")`); !strings.Contains(href, "format=csv") || !strings.Contains(href, "action=user.import") {
			t.Errorf("the CSV link is %q", href)
		}
		tb.checkPage("audit-filtered")
	})
}

// selectOption chooses the option whose label (without the depth prefix) is label.
func selectOption(t *testing.T, tb *tab, sel, label string) {
	t.Helper()
	ok := eval[bool](tb, `(() => {
		const s = document.querySelector(`+jsString(sel)+`);
		const o = [...s.options].find(o => o.textContent.replace(/^(— )*/, "") === `+jsString(label)+`);
		if (!o) return false;
		s.value = o.value;
		return true;
	})()`)
	if !ok {
		t.Fatalf("%s has no option %q", sel, label)
	}
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// TestExpiredSessionIsPolite revokes the browser's session behind its back: the next
// page goes to the sign-in page with a notice, and signing in returns to that page.
func TestExpiredSessionIsPolite(t *testing.T) {
	eachViewport(t, func(t *testing.T, tb *tab, vp string) {
		tb.signIn("admin", adminPassword)
		cookies, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{baseURL}})
		if err != nil {
			t.Fatal(err)
		}
		token := ""
		for _, c := range cookies.Cookies {
			if c.Name == "hoctap_session" {
				token = c.Value
				if !c.HTTPOnly {
					t.Error("the session cookie is readable by scripts")
				}
			}
		}
		if token == "" {
			t.Fatal("no session cookie after signing in")
		}
		api(t, token, "POST", "/api/v1/auth/logout", nil, nil)

		tb.open("/admin/users?q=nguyen")
		if loc := tb.location(); !strings.Contains(loc, "/login?expired=1") {
			t.Fatalf("with an ended session the page went to %s", loc)
		}
		if n := tb.text(".notice"); n != "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại để tiếp tục." {
			t.Errorf("expiry notice %q", n)
		}
		tb.checkPage("session-expired")
		tb.fill("#username", "admin")
		tb.fill("#password", adminPassword)
		tb.submit("form[action='/login'] button")
		if loc := tb.location(); !strings.HasSuffix(loc, "/admin/users?q=nguyen") {
			t.Errorf("after signing in again the page is %s, want the one asked for", loc)
		}
	})
}

// TestFormsNeedTheCSRFToken sends a form with a wrong token: nothing changes and the
// page says the form expired.
func TestFormsNeedTheCSRFToken(t *testing.T) {
	tb := newTab(t, "desktop")
	tb.signIn("admin", adminPassword)
	tb.open("/admin/units")
	tb.fill("#name", "Không được tạo")
	tb.fill("#code", "CSRF-TEST")
	tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("form[action='/admin/units'] input[name=csrf_token]").value = "forged"`))
	tb.submit("form[action='/admin/units'] button")
	if h := tb.text("h1"); h != "Biểu mẫu đã hết hạn" {
		t.Errorf("a forged form shows %q", h)
	}
	tb.open("/admin/units")
	if strings.Contains(tb.text(".tree"), "CSRF-TEST") {
		t.Error("a form with a forged token created a unit")
	}
}

func TestErrorPages(t *testing.T) {
	unit := createUnit(t, "Xã Hòa Bình", "XA-HOA-BINH", "")
	createUser(t, "hoc.vien-loi", "hocvien-pass-1", "Đỗ Văn Bình", unit)
	eachViewport(t, func(t *testing.T, tb *tab, vp string) {
		tb.open("/khong-co-trang-nay")
		if h := tb.text("h1"); h != "Không tìm thấy trang" {
			t.Errorf("404 heading %q", h)
		}
		tb.checkPage("not-found")

		tb.signIn("hoc.vien-loi", "hocvien-pass-1")
		tb.open("/admin/units")
		if h := tb.text("h1"); h != "Không có quyền" {
			t.Errorf("a learner at /admin/units sees %q", h)
		}
		if n := eval[int](tb, `document.querySelectorAll("form[action='/admin/units']").length`); n != 0 {
			t.Error("a learner sees the unit form")
		}
	})
}

// TestKeyboard checks that the first Tab reaches the skip link, which shows a visible
// focus ring and moves the focus to the main content, and that forms are used from the
// keyboard alone.
func TestKeyboard(t *testing.T) {
	tb := newTab(t, "desktop")
	tb.open("/login")
	tb.do(chromedp.KeyEvent("\t"))
	if cls := eval[string](tb, `document.activeElement.className`); cls != "skip" {
		t.Fatalf("the first Tab focuses %q, want the skip link", cls)
	}
	if outline := eval[string](tb, `getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
		t.Error("the focused skip link has no visible outline")
	}
	tb.do(chromedp.KeyEvent("\r"))
	tb.waitFor(`location.hash === "#main"`)
	// Sign in with the keyboard only: focus the username, type, Tab, type, Enter.
	tb.do(chromedp.Focus(chromedp.CSS("#username")))
	tb.do(chromedp.KeyEvent("admin"), chromedp.KeyEvent("\t"), chromedp.KeyEvent(adminPassword))
	tb.do(chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.old = "1"`))
	tb.do(chromedp.KeyEvent("\r"))
	tb.waitFor(`!document.documentElement.dataset.old && !!document.querySelector("nav.main-nav")`)
	if loc := tb.location(); !strings.HasSuffix(loc, "/admin/units") {
		t.Errorf("signing in by keyboard landed on %s", loc)
	}
}
