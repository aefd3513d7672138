package courses

import (
	"slices"
	"strconv"
	"strings"

	"hoctap/accounts"
	"hoctap/audit/trail"
)

// The audit entries of courses actions, shaped by plain functions and recorded by the
// service methods right after the change is stored.

// maxListedUsers bounds the usernames an enrolment entry lists; the counts are complete.
const maxListedUsers = 50

func courseEntry(p accounts.Principal, a trail.Action, c Course) trail.Entry {
	return p.AuditActor().Did(a, "course:"+c.ID, c.Code)
}

func classEntry(p accounts.Principal, a trail.Action, c Class) trail.Entry {
	return p.AuditActor().Did(a, "class:"+c.ID, c.Name).With("course", c.CourseCode)
}

// enrolmentEntry completes the entry e of an enrolment with its counts, the usernames of
// the first enrolled users (in the order of users) and the units of all of them, so that
// the officers of those units see it.
func enrolmentEntry(e trail.Entry, res EnrolResult, enrolledIDs []string, users []accounts.User) trail.Entry {
	in := make(map[string]bool, len(enrolledIDs))
	for _, id := range enrolledIDs {
		in[id] = true
	}
	var names []string
	units := map[string]bool{}
	for _, u := range users {
		if !in[u.ID] {
			continue
		}
		in[u.ID] = false // listed once
		if len(names) < maxListedUsers {
			names = append(names, u.Username)
		}
		if u.UnitID != "" {
			units[u.UnitID] = true
		}
	}
	list := strings.Join(names, ",")
	if more := len(enrolledIDs) - len(names); more > 0 {
		list += " (+" + strconv.Itoa(more) + ")"
	}
	ids := make([]string, 0, len(units))
	for id := range units {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return e.In(ids...).With("enrolled", strconv.Itoa(res.Enrolled)).With("already", strconv.Itoa(res.Already)).
		With("refused", strconv.Itoa(len(res.Refused))).With("users", list)
}
