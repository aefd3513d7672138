package frontend

import (
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/internal/errs"
)

type loginData struct {
	Next string
}

// loginPage shows the sign-in form, with a notice when the person was sent here because
// their session ended or they signed out.
func (f *Frontend) loginPage(c *fiber.Ctx) error {
	v := f.newView(c, "")
	v.User = nil // the sign-in page never trusts a cookie; it is where stale ones end up
	v.Data = loginData{Next: safeNext(c.Query("next"))}
	switch {
	case c.Query("expired") != "":
		v.Flash, v.Notice = v.T("login.expired"), "info"
	case c.Query("bye") != "":
		v.Flash, v.Notice = v.T("login.signed_out"), "ok"
	}
	return f.render(c, "login", v)
}

// login checks the form, opens a session and goes where the person was heading.
func (f *Frontend) login(c *fiber.Ctx) error {
	v := f.newView(c, "")
	v.User = nil
	next := safeNext(c.FormValue("next"))
	v.Data = loginData{Next: next}
	v.Form = formValues(c, "username")
	if !validAnonymousForm(c) {
		v.Flash, v.Notice = v.T("error.form_expired.text"), "error"
		c.Status(http.StatusUnprocessableEntity)
		return f.render(c, "login", v)
	}
	username, password := strings.TrimSpace(c.FormValue("username")), c.FormValue("password")
	if username == "" || password == "" {
		v.Errors = map[string]string{}
		if username == "" {
			v.Errors["username"] = v.T("reason.required")
		}
		if password == "" {
			v.Errors["password"] = v.T("reason.required")
		}
		v.Flash, v.Notice = v.T("form.fix_errors"), "error"
		c.Status(http.StatusUnprocessableEntity)
		return f.render(c, "login", v)
	}
	res, err := f.d.Accounts.Login(c.UserContext(), username, password, c.IP())
	switch {
	case err == nil:
	case errs.Code(err) == "unauthenticated":
		v.Flash, v.Notice = v.T("login.failed"), "error"
		c.Status(http.StatusUnauthorized)
		return f.render(c, "login", v)
	case errs.Code(err) == "rate_limited":
		v.Flash, v.Notice = v.T("error.rate_limited.text"), "error"
		c.Status(http.StatusTooManyRequests)
		return f.render(c, "login", v)
	default:
		return err
	}
	f.d.SetSession(c, res.Token, res.ExpiresAt)
	if next == "/" {
		next = f.homeFor(accounts.Principal{User: res.User})
	}
	return c.Redirect(next, http.StatusSeeOther)
}

// logout ends the session and says so on the sign-in page.
func (f *Frontend) logout(c *fiber.Ctx) error {
	if _, ok := f.d.Principal(c); ok {
		if err := f.d.Accounts.Logout(c.UserContext(), f.d.SessionToken(c)); err != nil {
			return err
		}
	}
	f.d.ClearSession(c)
	return c.Redirect("/login?bye=1", http.StatusSeeOther)
}

// setLanguage switches the interface language: remembered on the account of a signed-in
// person and in a cookie for everyone (so the sign-in page keeps it too).
func (f *Frontend) setLanguage(c *fiber.Ctx) error {
	lang := c.FormValue("lang")
	if !validLanguage(lang) {
		return errs.Field("lang", "must be vi or en")
	}
	p, signedIn := f.d.Principal(c)
	if !signedIn && !validAnonymousForm(c) {
		return errs.Invalid("the form has expired", nil)
	}
	if signedIn && p.User.Language != lang {
		if _, err := f.d.Accounts.UpdateUser(c.UserContext(), p, p.User.ID, accounts.UserPatch{Language: &lang}); err != nil {
			return err
		}
	}
	c.Cookie(&fiber.Cookie{Name: langCookie, Value: lang, Path: "/", Expires: f.d.Now().Add(365 * 24 * time.Hour),
		Secure: f.d.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode})
	return c.Redirect(safeNext(c.FormValue("next")), http.StatusSeeOther)
}

type accountData struct {
	Unit string
}

// accountPage shows the person's own account: who they are, language and password.
func (f *Frontend) accountPage(c *fiber.Ctx) error {
	v := f.newView(c, "account")
	d, err := f.accountData(c, v)
	if err != nil {
		return err
	}
	v.Data = d
	return f.render(c, "account", v)
}

func (f *Frontend) accountData(c *fiber.Ctx, v *view) (accountData, error) {
	var d accountData
	if v.User.UnitID == "" {
		return d, nil
	}
	units, err := f.d.Accounts.AllUnits(c.UserContext())
	if err != nil {
		return d, err
	}
	for _, u := range units {
		if u.ID == v.User.UnitID {
			d.Unit = u.Name
		}
	}
	return d, nil
}

// changePassword changes the person's own password (their other sessions end).
func (f *Frontend) changePassword(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	current, next, again := c.FormValue("current_password"), c.FormValue("new_password"), c.FormValue("new_password_again")
	v := f.newView(c, "account")
	d, err := f.accountData(c, v)
	if err != nil {
		return err
	}
	v.Data = d
	if next != again {
		v.Errors = map[string]string{"new_password_again": v.T("account.password_mismatch")}
		v.Flash, v.Notice = v.T("form.fix_errors"), "error"
		c.Status(http.StatusUnprocessableEntity)
		return f.render(c, "account", v)
	}
	_, err = f.d.Accounts.UpdateUser(c.UserContext(), p, p.User.ID, accounts.UserPatch{Password: &next, CurrentPassword: &current})
	if err != nil {
		status, ok := v.formFailed(err, "error.conflict.text")
		if !ok {
			return err
		}
		if e, ok := v.Errors["password"]; ok {
			v.Errors["new_password"] = e // the service names the new password "password"
		}
		c.Status(status)
		return f.render(c, "account", v)
	}
	return c.Redirect("/account?ok=password_changed", http.StatusSeeOther)
}
