package server

import (
	"net/http"
	"testing"

	"hoctap/assessment"
	"hoctap/internal/ids"
)

// TestAccommodationsOverHTTP: what PUT sets, GET lists, to whoever may set it; a trainer of
// another class of the course sees none of our learners; learners are refused; setting both
// figures to zero removes one.
func TestAccommodationsOverHTTP(t *testing.T) {
	f := newAssessmentFixture(t)
	ts := f.ts
	otherTrainer, _, quiz := f.essayQuizAndAnotherTrainer(t)
	path := "/api/v1/quizzes/" + quiz.ID + "/accommodations"

	var got list[assessment.Accommodation]
	ts.call(t, "GET", path, f.lecturer, nil, http.StatusOK, &got)
	if got.Total != 0 || got.Items == nil {
		t.Fatalf("before any: %+v", got)
	}
	l1, l2 := mustUserID(t, ts, f.learner1), mustUserID(t, ts, f.learner2)
	ts.call(t, "PUT", path+"/"+l1, f.trainer, map[string]any{"extra_time_s": 900, "extra_attempts": 1}, http.StatusOK, nil)
	ts.call(t, "PUT", path+"/"+l2, f.lecturer, map[string]any{"extra_time_s": 0, "extra_attempts": 2}, http.StatusOK, nil)

	byUser := func(token string) map[string]assessment.Accommodation {
		t.Helper()
		var got list[assessment.Accommodation]
		ts.call(t, "GET", path, token, nil, http.StatusOK, &got)
		out := map[string]assessment.Accommodation{}
		for _, a := range got.Items {
			out[a.UserID] = a
		}
		if len(out) != got.Total {
			t.Fatalf("total %d for %d items", got.Total, len(got.Items))
		}
		return out
	}
	for name, token := range map[string]string{"owner": f.lecturer, "trainer": f.trainer, "admin": f.admin} {
		m := byUser(token)
		if len(m) != 2 || m[l1].ExtraTimeS != 900 || m[l1].ExtraAttempts != 1 || m[l2].ExtraAttempts != 2 || m[l1].QuizID != quiz.ID {
			t.Errorf("%s sees %+v", name, m)
		}
	}
	if m := byUser(otherTrainer); len(m) != 0 {
		t.Errorf("the trainer of another class sees %+v", m)
	}
	// Removing: both figures back to zero.
	ts.call(t, "PUT", path+"/"+l2, f.trainer, map[string]any{"extra_time_s": 0, "extra_attempts": 0}, http.StatusOK, nil)
	if m := byUser(f.lecturer); len(m) != 1 || m[l1].ExtraTimeS != 900 {
		t.Errorf("after removing one: %+v", m)
	}

	for _, token := range []string{f.learner1, f.outside} {
		ts.callErr(t, "GET", path, token, nil, http.StatusForbidden, "forbidden")
	}
	ts.callErr(t, "GET", path, "", nil, http.StatusUnauthorized, "unauthenticated")
	ts.callErr(t, "GET", "/api/v1/quizzes/"+ids.New()+"/accommodations", f.admin, nil, http.StatusNotFound, "not_found")
	ts.callErr(t, "GET", "/api/v1/quizzes/nope/accommodations", f.admin, nil, http.StatusNotFound, "not_found")
}
