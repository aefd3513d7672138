package frontend

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/assessment"
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
			ok := "accommodation"
			if minutes == 0 && attempts == 0 {
				ok = "accommodation_removed" // the service's way to remove one
			}
			return c.Redirect("/teach/quizzes/"+quizID+"?ok="+ok, http.StatusSeeOther)
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

// accommodationRow is one learner's accommodation as the quiz page lists it.
type accommodationRow struct {
	assessment.Accommodation
	Name, Username string
}

// ExtraMinutes is the extra time in minutes (the API takes seconds, so it may not be
// whole).
func (r accommodationRow) ExtraMinutes() float64 { return float64(r.ExtraTimeS) / 60 }

// ExtraDecimals is how many decimals ExtraMinutes needs.
func (r accommodationRow) ExtraDecimals() int {
	if r.ExtraTimeS%60 != 0 {
		return 1
	}
	return 0
}

// quizAccommodations lists the accommodations of a quiz the caller may see, in Vietnamese
// name order.
func (f *Frontend) quizAccommodations(ctx context.Context, p accounts.Principal, quizID string) ([]accommodationRow, error) {
	list, err := f.d.Authoring.Accommodations(ctx, p, quizID)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	userIDs := make([]string, 0, len(list))
	for _, a := range list {
		userIDs = append(userIDs, a.UserID)
	}
	users, err := f.d.Accounts.FindUsersByIDs(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]accounts.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	rows := make([]accommodationRow, 0, len(list))
	for _, a := range list {
		u, ok := byID[a.UserID]
		if !ok {
			continue // a deleted account: nobody to start attempts with it
		}
		rows = append(rows, accommodationRow{Accommodation: a, Name: u.FullName, Username: u.Username})
	}
	SortByName(rows, func(r accommodationRow) string { return r.Name })
	return rows, nil
}

// editAccommodation fills the accommodation form with a listed learner's figures when the
// page was opened from that row's change link (?edit_acc=username) and no submitted form
// is being shown again.
func (v *view) editAccommodation(rows []accommodationRow, username string) {
	if username == "" || len(v.Form) > 0 {
		return
	}
	for _, r := range rows {
		if r.Username == username {
			// The form takes whole minutes; seconds set through the API round up.
			minutes := strconv.Itoa((r.ExtraTimeS + 59) / 60)
			v.Form = map[string]string{"username": r.Username, "extra_time_min": minutes,
				"extra_attempts": strconv.Itoa(r.ExtraAttempts), "accommodation": "open"}
			return
		}
	}
}
