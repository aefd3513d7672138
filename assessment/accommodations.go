package assessment

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"hoctap/accounts"
)

// Accommodations lists a quiz's accommodations that the caller may see, the most recently
// changed first: every learner's for admins and the quiz owner, only the learners of their
// own classes for trainers of the course (the same rule as SetAccommodation). An
// accommodation set back to no extra time and no extra attempts is how one is removed, so
// those are left out. Errors: ErrNotFound for an unknown quiz, ErrForbidden for anyone
// else.
func (s *Service) Accommodations(ctx context.Context, actor accounts.Principal, quizID string) ([]Accommodation, error) {
	q, scope, err := s.quizForResults(ctx, actor, quizID, "accommodations")
	if err != nil {
		return nil, err
	}
	cur, err := s.accommodations.Find(ctx, bson.M{"quiz_id": q.ID})
	if err != nil {
		return nil, fmt.Errorf("assessment: list accommodations: %w", dbErr(err))
	}
	var stored []Accommodation
	if err := cur.All(ctx, &stored); err != nil {
		return nil, fmt.Errorf("assessment: list accommodations: %w", dbErr(err))
	}
	byUser := make(map[string]Accommodation, len(stored))
	for _, a := range stored {
		byUser[a.UserID] = a
	}
	// What this process wrote a moment ago may not be in the read yet (see
	// latestAccommodation); the page that set one redirects here at once.
	s.mu.Lock()
	for _, r := range s.recentAcc {
		if a, seen := byUser[r.UserID]; r.QuizID == q.ID && (!seen || r.UpdatedAt.After(a.UpdatedAt)) {
			byUser[r.UserID] = r
		}
	}
	s.mu.Unlock()
	out := []Accommodation{}
	for _, a := range byUser {
		if scope.has(a.UserID) && (a.ExtraTimeS > 0 || a.ExtraAttempts > 0) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b Accommodation) int {
		return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), cmp.Compare(a.UserID, b.UserID))
	})
	return out, nil
}
