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
)

// attemptCond is a condition on the stored attempt that a write depends on (still open,
// not graded yet, result unchanged). It is written twice, side by side: as filter terms
// for MongoDB, which checks and writes atomically, and as the same test in Go, for the
// single-process path of updateAttemptIf.
type attemptCond struct {
	filter bson.M
	holds  func(*Attempt) bool
}

// whileOpen holds while the attempt is open and, when it has a deadline, the deadline is
// not before notBefore: an autosave is refused once the deadline plus grace has passed.
func whileOpen(hasDeadline bool, notBefore time.Time) attemptCond {
	if !hasDeadline {
		return attemptCond{
			filter: bson.M{"status": StatusOpen},
			holds:  func(a *Attempt) bool { return a.Status == StatusOpen },
		}
	}
	notBefore = notBefore.Truncate(time.Millisecond) // what the database compares
	return attemptCond{
		filter: bson.M{"status": StatusOpen, "deadline": bson.M{"$gte": notBefore}},
		holds: func(a *Attempt) bool {
			return a.Status == StatusOpen && a.Deadline != nil && !a.Deadline.Before(notBefore)
		},
	}
}

// isOpen holds while the attempt is open.
func isOpen() attemptCond { return whileOpen(false, time.Time{}) }

// notGraded holds until a result is stored.
func notGraded() attemptCond {
	return attemptCond{filter: bson.M{"graded": false}, holds: func(a *Attempt) bool { return !a.Graded }}
}

// atResultRev holds while the result is at revision rev (compare-and-set of essay grades).
func atResultRev(rev int) attemptCond {
	return attemptCond{filter: bson.M{"result_rev": rev}, holds: func(a *Attempt) bool { return a.ResultRev == rev }}
}

// updateAttemptIf applies update to attempt id if cond holds and returns the attempt as
// it was just before, or nil (and no change) when the attempt does not exist or cond
// does not hold. Every conditional write of an attempt goes through here, so that the two
// paths below can never disagree with each other.
//
// With MongoDB the condition is part of the filter. Embedded FerretDB looks a document up
// from an index only when the filter is _id alone and scans the whole collection
// otherwise: a sitting made seven such scans of attempts, and an exam spike of 500
// learners failed on them. The embedded database has one user, this process (its data
// directory is locked), so there the attempt is read by _id, cond is checked in Go and the
// write made by _id, all under the attempt's lock in s.locks, which every conditional
// writer of this database shares. Errors wrap ErrUnavailable when the database does not
// answer.
func (s *Service) updateAttemptIf(ctx context.Context, id string, cond attemptCond, update bson.M) (*Attempt, error) {
	if s.locks == nil {
		filter := bson.M{"_id": id}
		for k, v := range cond.filter {
			filter[k] = v
		}
		var before Attempt
		err := s.attempts.FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&before)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, nil
		}
		if err != nil {
			return nil, dbErr(err)
		}
		return &before, nil
	}
	defer s.locks.Lock(id)()
	var before Attempt
	err := s.attempts.FindOne(ctx, bson.M{"_id": id}).Decode(&before)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, dbErr(err)
	}
	if !cond.holds(&before) {
		return nil, nil
	}
	res, err := s.attempts.UpdateOne(ctx, bson.M{"_id": id}, update)
	if err != nil {
		return nil, dbErr(err)
	}
	if res.MatchedCount == 0 {
		return nil, nil // deleted meanwhile; attempts are never deleted, but do not pretend
	}
	return &before, nil
}

// slot records that a learner's attempt number n at a quiz exists, under the key
// "quiz|user|n". A start claims the next number by inserting its slot (the unique _id
// makes that exactly-once) before it creates the attempt, and finds a learner's attempts
// by reading slots 1, 2, … by _id, which every backend answers from an index.
type slot struct {
	ID        string `bson:"_id"`
	AttemptID string `bson:"attempt_id"`
	Number    int    `bson:"-"`
}

func slotID(quizID, userID string, n int) string {
	return fmt.Sprintf("%s|%s|%d", quizID, userID, n)
}

// slotsBackfilled marks, in attempt_slots, that every attempt stored before slots
// existed has one.
const slotsBackfilled = "backfilled"

// lastSlot returns the learner's highest-numbered slot at the quiz, or a zero slot when
// they have none. Errors wrap ErrUnavailable.
func (s *Service) lastSlot(ctx context.Context, quizID, userID string) (slot, error) {
	list, err := s.learnerSlots(ctx, quizID, userID)
	if err != nil || len(list) == 0 {
		return slot{}, err
	}
	return list[len(list)-1], nil
}

// learnerSlots returns the learner's slots at the quiz, numbers 1, 2, … in order.
// Errors wrap ErrUnavailable.
func (s *Service) learnerSlots(ctx context.Context, quizID, userID string) ([]slot, error) {
	var list []slot
	for n := 1; ; n++ {
		var sl slot
		err := s.slots.FindOne(ctx, bson.M{"_id": slotID(quizID, userID, n)}).Decode(&sl)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return list, nil
		}
		if err != nil {
			return nil, fmt.Errorf("assessment: read attempt slots: %w", dbErr(err))
		}
		sl.Number = n
		list = append(list, sl)
	}
}

// learnerAttempts returns the learner's attempts at the quiz by number, without answers
// (summaryFields), read through their slots by _id: a quiz page and a completion check
// cost a few index lookups instead of a scan of every attempt on embedded FerretDB. A
// slot whose attempt is still being stored is skipped. Errors wrap ErrUnavailable.
func (s *Service) learnerAttempts(ctx context.Context, quizID, userID string) ([]Attempt, error) {
	slots, err := s.learnerSlots(ctx, quizID, userID)
	if err != nil {
		return nil, err
	}
	list := make([]Attempt, 0, len(slots))
	for _, sl := range slots {
		var a Attempt
		err := s.attempts.FindOne(ctx, bson.M{"_id": sl.AttemptID}, options.FindOne().SetProjection(summaryFields)).Decode(&a)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("assessment: read attempt: %w", dbErr(err))
		}
		list = append(list, a)
	}
	return list, nil
}

// claimSlot inserts slot n for a new attempt; claimed is false when another start took
// that number first. Errors wrap ErrUnavailable.
func (s *Service) claimSlot(ctx context.Context, quizID, userID string, n int, attemptID string) (claimed bool, err error) {
	_, err = s.slots.InsertOne(ctx, slot{ID: slotID(quizID, userID, n), AttemptID: attemptID})
	switch {
	case err == nil:
		return true, nil
	case database.IsDuplicateKey(err):
		return false, nil
	default:
		return false, fmt.Errorf("assessment: claim attempt number %d: %w", n, dbErr(err))
	}
}

// backfillSlots gives every attempt stored before attempt_slots existed its slot, once:
// a marker document records that it is done, and a run cut short is repeated in full
// (inserting a slot that exists changes nothing). Errors wrap ErrUnavailable.
func (s *Service) backfillSlots(ctx context.Context) error {
	err := s.slots.FindOne(ctx, bson.M{"_id": slotsBackfilled}).Err()
	if err == nil {
		return nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("assessment: backfill attempt slots: %w", dbErr(err))
	}
	cur, err := s.attempts.Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"_id": 1, "quiz_id": 1, "user_id": 1, "number": 1}))
	if err != nil {
		return fmt.Errorf("assessment: backfill attempt slots: %w", dbErr(err))
	}
	var list []Attempt
	if err := cur.All(ctx, &list); err != nil {
		return fmt.Errorf("assessment: backfill attempt slots: %w", dbErr(err))
	}
	for len(list) > 0 {
		batch := list[:min(len(list), 500)]
		list = list[len(batch):]
		docs := make([]any, len(batch))
		for i, a := range batch {
			docs[i] = slot{ID: slotID(a.QuizID, a.UserID, a.Number), AttemptID: a.ID}
		}
		if err := insertIgnoringDuplicates(ctx, s.slots, docs); err != nil {
			return fmt.Errorf("assessment: backfill attempt slots: %w", err)
		}
	}
	if _, err := s.slots.InsertOne(ctx, bson.M{"_id": slotsBackfilled}); err != nil && !database.IsDuplicateKey(err) {
		return fmt.Errorf("assessment: backfill attempt slots: %w", dbErr(err))
	}
	return nil
}
