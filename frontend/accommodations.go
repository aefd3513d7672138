package frontend

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/internal/errs"
)

// bankSharing returns the usernames of the lecturers a bank is shared with.
func (f *Frontend) bankSharing(c *fiber.Ctx, p accounts.Principal, name string) ([]string, error) {
	banks, err := f.d.Authoring.ListBanks(c.UserContext(), p)
	if err != nil {
		return nil, err
	}
	for _, b := range banks {
		if b.Name != name || len(b.SharedWith) == 0 {
			continue
		}
		users, err := f.d.Accounts.FindUsersByIDs(c.UserContext(), b.SharedWith)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, u := range users {
			names = append(names, u.Username)
		}
		slices.Sort(names)
		return names, nil
	}
	return nil, nil
}

// shareBank sets the lecturers, named by username, who may use a bank besides its owner
// (admins only; an empty list shares it with nobody).
func (f *Frontend) shareBank(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	ctx := c.UserContext()
	bank := strings.TrimSpace(c.FormValue("bank"))
	if !p.Has(accounts.RoleAdmin) {
		// The service refuses too; checking first keeps others from probing usernames here.
		return fmt.Errorf("only admins share question banks: %w", errs.ErrForbidden)
	}
	ids, unknown, err := f.resolveUsernames(ctx, p, c.FormValue("usernames"))
	if err == nil && len(unknown) > 0 {
		err = errs.Field("usernames", "no such user: "+strings.Join(unknown, ", "))
	}
	if err == nil {
		if ids == nil {
			ids = []string{}
		}
		if _, err = f.d.Authoring.ShareBank(ctx, p, bank, ids); err == nil {
			return c.Redirect("/teach/bank?name="+url.QueryEscape(bank)+"&ok=saved", http.StatusSeeOther)
		}
	}
	v := f.newView(c, "banks")
	status, ok := v.formFailed(err, "error.conflict.text")
	if !ok {
		return err
	}
	v.Form = formValues(c, "usernames")
	c.Status(status)
	return f.renderBank(c, v, bank)
}

// setAccommodation gives one learner, named by username, extra minutes and extra attempts
// on a quiz, for the attempts they start from now on.
func (f *Frontend) setAccommodation(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	if err := requireStaff(p); err != nil {
		return err
	}
	ctx, quizID := c.UserContext(), c.Params("id")
	var fields errs.Fields
	minutes := formInt(c, "extra_time_min", &fields)
	attempts := formInt(c, "extra_attempts", &fields)
	username := strings.TrimSpace(c.FormValue("username"))
	fields.Check(username == "", "username", "is required")
	err := fields.Err()
	if err == nil {
		var ids, unknown []string
		ids, unknown, err = f.resolveUsernames(ctx, p, username)
		switch {
		case err != nil:
		case len(unknown) > 0 || len(ids) != 1:
			err = errs.Field("username", "no such user")
		default:
			_, err = f.d.Authoring.SetAccommodation(ctx, p, quizID, ids[0], minutes*60, attempts)
		}
		if err == nil {
			return c.Redirect("/teach/quizzes/"+quizID+"?ok=accommodation", http.StatusSeeOther)
		}
	}
	v := f.newView(c, "courses")
	status, ok := v.formFailed(err, "error.conflict.text")
	if !ok {
		return err
	}
	v.Form = formValues(c, "username", "extra_time_min", "extra_attempts")
	v.Form["accommodation"] = "open"
	c.Status(status)
	return f.renderQuizResults(c, v, p)
}
