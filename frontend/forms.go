package frontend

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"hoctap/internal/errs"
)

// reasonKeys translates the field reasons domain services give (English, written for API
// clients) into catalogue keys; a reason not listed shows as the generic key followed by
// the service's own words.
var reasonKeys = []struct{ prefix, key string }{
	{"is required", "reason.required"},
	{"is too long", "reason.too_long"},
	{"contains invalid characters", "reason.invalid_characters"},
	{"is not an e-mail address", "reason.email"},
	{"may not contain spaces", "reason.no_spaces"},
	{"no such unit", "reason.no_such_unit"},
	{"must be 3 to 64 characters", "reason.username_length"},
	{"may contain only the letters", "reason.username_chars"},
	{"must be at least", "reason.password_short"},
	{"must be at most", "reason.too_long"},
	{"is wrong", "reason.wrong"},
	{"unknown role", "reason.unknown_role"},
	{"is not a whole number", "reason.whole_number"},
	{"is not a date", "reason.date"},
	{"at most 500 at once", "reason.too_many"},
	{"needs left = right", "reason.matching_line"},
	{"no such user", "reason.no_such_user"},
	{"the course has no such published revision", "classes.no_such_revision"},
	{"must be a time in RFC 3339", "audit.reason_date"},
	{"must not be before since", "audit.reason_until_before"},
	{"unknown action", "audit.reason_action"},
}

func (v *view) reason(r string) string {
	for _, k := range reasonKeys {
		if strings.HasPrefix(r, k.prefix) {
			return v.T(k.key)
		}
	}
	return v.T("reason.invalid") + " (" + r + ")"
}

// formFailed shows err on the form being re-rendered when it is the person's to fix
// (invalid input, a conflict, a refusal, too large, rate limited), setting the field
// errors and a notice and choosing the status; conflictKey names the notice for a
// conflict. It returns (status, true) when handled; other errors (internal, unavailable)
// must go to the error handler.
func (v *view) formFailed(err error, conflictKey string) (int, bool) {
	v.Notice = "error"
	switch errs.Code(err) {
	case "invalid":
		v.Flash = v.T("form.fix_errors")
		var fe *errs.FieldError
		if errors.As(err, &fe) {
			v.Errors = map[string]string{}
			for field, r := range fe.Fields {
				v.Errors[field] = v.reason(r)
			}
			if len(fe.Fields) == 0 && fe.Message != "" {
				v.Flash += " " + fe.Message
			}
		}
		return http.StatusUnprocessableEntity, true
	case "conflict":
		v.Flash = v.T(conflictKey)
		return http.StatusConflict, true
	case "forbidden":
		v.Flash = v.T("error.forbidden.text")
		return http.StatusForbidden, true
	case "not_found":
		v.Flash = v.T("error.not_found.text")
		return http.StatusNotFound, true
	case "too_large":
		v.Flash = v.T("error.too_large.text")
		return http.StatusRequestEntityTooLarge, true
	case "rate_limited":
		v.Flash = v.T("error.rate_limited.text")
		return http.StatusTooManyRequests, true
	}
	v.Notice = ""
	return 0, false
}

// formValues keeps the submitted values of the named fields, trimmed, to show again.
func formValues(c *fiber.Ctx, names ...string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = strings.TrimSpace(c.FormValue(n))
	}
	return m
}
