package assessment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/internal/database"
	"hoctap/internal/errs"
)

// dueDoc says when the sweeper must next look at an attempt that is not graded yet: at
// its deadline while it is open (never, for an attempt without one), at once while it is
// being closed. The document exists from just before the attempt is stored until its
// result is, so attempt_due holds only the attempts still in play. The sweeper scans
// that small collection instead of every attempt ever sat, which on the embedded database
// would cost seconds per sweep once a pilot has stored tens of thousands.
type dueDoc struct {
	ID  string    `bson:"_id"` // the attempt's id
	Due time.Time `bson:"due"`
}

// dueNever is the Due of an open attempt without a deadline.
var dueNever = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// dueBackfilled marks, in attempt_due, that every attempt stored before attempt_due
// existed and not yet graded has its document.
const dueBackfilled = "backfilled"

func dueAt(deadline *time.Time) time.Time {
	if deadline == nil {
		return dueNever
	}
	return *deadline
}

// setDue records when the sweeper must look at attempt id next. Errors wrap
// ErrUnavailable.
func (s *Service) setDue(ctx context.Context, id string, due time.Time) error {
	_, err := s.due.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"due": due}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("assessment: schedule attempt %s: %w", id, dbErr(err))
	}
	return nil
}

// settled forgets attempt id once its result is stored. Errors wrap ErrUnavailable; the
// sweeper then finds the attempt graded and forgets it itself.
func (s *Service) settled(ctx context.Context, id string) error {
	if _, err := s.due.DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return fmt.Errorf("assessment: unschedule attempt %s: %w", id, dbErr(err))
	}
	return nil
}

// SweepOnce closes and grades every open attempt whose deadline plus grace has passed,
// with the answers it saved, and grades submitted attempts a crashed process left
// ungraded. It reads the attempts due from attempt_due, not from attempts. It is safe to
// run in several processes at once: the conditional update of closeAttempt lets exactly
// one of them close each attempt, and grading twice stores one result. It returns how
// many attempts this call closed.
func (s *Service) SweepOnce(ctx context.Context) (int, error) {
	now := s.now()
	cur, err := s.due.Find(ctx, bson.M{"due": bson.M{"$lt": now}}, options.Find().SetLimit(5000))
	if err != nil {
		return 0, fmt.Errorf("assessment: sweep: %w", dbErr(err))
	}
	var due []dueDoc
	if err := cur.All(ctx, &due); err != nil {
		return 0, fmt.Errorf("assessment: sweep: %w", dbErr(err))
	}
	closed := 0
	var errList []error
	for _, d := range due {
		ok, err := s.sweepAttempt(ctx, d.ID, now)
		if ok {
			closed++
		}
		if err != nil {
			errList = append(errList, err)
		}
	}
	return closed, errors.Join(errList...)
}

// sweepAttempt settles one attempt that was due: closes it if its deadline plus grace
// has passed, grades it if it is closed but not graded, reschedules it if it is open and
// still has time (a submit whose close did not happen), forgets it once graded or gone.
// closed reports whether this call closed it.
func (s *Service) sweepAttempt(ctx context.Context, id string, now time.Time) (closed bool, err error) {
	a, err := s.findAttempt(ctx, id)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		// A start that stopped before storing its attempt; the next start stores it again,
		// with its own schedule.
		return false, s.settled(ctx, id)
	case err != nil:
		return false, err
	}
	switch {
	case a.Status == StatusOpen && a.Deadline != nil && now.After(a.Deadline.Add(s.grace)):
		closed, _, err = s.closeAttempt(ctx, id, closedByTime)
		return closed, err
	case a.Status == StatusOpen:
		return false, s.setDue(ctx, id, dueAt(a.Deadline).Add(s.grace))
	case !a.Graded:
		return false, s.storeResult(ctx, a)
	default:
		return false, s.settled(ctx, id)
	}
}

// backfillDue gives every attempt stored before attempt_due existed and not graded yet
// its schedule, once (a marker records it; a run cut short is repeated). Errors wrap
// ErrUnavailable.
func (s *Service) backfillDue(ctx context.Context) error {
	err := s.due.FindOne(ctx, bson.M{"_id": dueBackfilled}).Err()
	if err == nil {
		return nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("assessment: backfill attempt schedules: %w", dbErr(err))
	}
	cur, err := s.attempts.Find(ctx, bson.M{"graded": false}, options.Find().SetProjection(bson.M{"_id": 1, "status": 1, "deadline": 1}))
	if err != nil {
		return fmt.Errorf("assessment: backfill attempt schedules: %w", dbErr(err))
	}
	var list []Attempt
	if err := cur.All(ctx, &list); err != nil {
		return fmt.Errorf("assessment: backfill attempt schedules: %w", dbErr(err))
	}
	for len(list) > 0 {
		batch := list[:min(len(list), 500)]
		list = list[len(batch):]
		docs := make([]any, len(batch))
		for i, a := range batch {
			due := s.now() // closed and not graded: at once
			if a.Status == StatusOpen {
				due = dueAt(a.Deadline).Add(s.grace)
			}
			docs[i] = dueDoc{ID: a.ID, Due: due}
		}
		if err := insertIgnoringDuplicates(ctx, s.due, docs); err != nil {
			return fmt.Errorf("assessment: backfill attempt schedules: %w", err)
		}
	}
	if _, err := s.due.InsertOne(ctx, bson.M{"_id": dueBackfilled, "due": dueNever}); err != nil && !database.IsDuplicateKey(err) {
		return fmt.Errorf("assessment: backfill attempt schedules: %w", dbErr(err))
	}
	return nil
}
