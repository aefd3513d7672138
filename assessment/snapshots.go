package assessment

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/internal/database"
)

// maxSnapshotCache bounds the in-process cache of question versions. Versions never
// change, so entries are valid forever; the bound only limits memory.
const maxSnapshotCache = 20_000

type snapshotDoc struct {
	ID       string   `bson:"_id"`
	Question Question `bson:"question"`
}

// ensureSnapshots stores the given question versions in question_versions unless they
// are there already. Inserting a version twice is harmless: the key is the version, the
// content the same, and the duplicate is ignored.
func (s *Service) ensureSnapshots(ctx context.Context, qs []Question) error {
	var docs []any
	var fresh []Question
	s.mu.Lock()
	for _, q := range qs {
		if _, ok := s.snapshots[snapshotKey(q.ID, q.Version)]; !ok {
			docs = append(docs, snapshotDoc{ID: snapshotKey(q.ID, q.Version), Question: q})
			fresh = append(fresh, q)
		}
	}
	s.mu.Unlock()
	if len(docs) == 0 {
		return nil
	}
	if err := insertIgnoringDuplicates(ctx, s.versions, docs); err != nil {
		return fmt.Errorf("assessment: store question versions: %w", err)
	}
	s.rememberSnapshots(fresh)
	return nil
}

// insertIgnoringDuplicates inserts docs, unordered, and treats a document whose _id (or
// other unique key) is taken as already stored. Other failures are returned, wrapping
// ErrUnavailable when the database does not answer.
func insertIgnoringDuplicates(ctx context.Context, c *mongo.Collection, docs []any) error {
	_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return dbErr(err)
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 && !strings.Contains(we.Message, "duplicate key") {
			return err
		}
	}
	return nil
}

func (s *Service) rememberSnapshots(qs []Question) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.snapshots)+len(qs) > maxSnapshotCache {
		clear(s.snapshots)
	}
	for _, q := range qs {
		s.snapshots[snapshotKey(q.ID, q.Version)] = q
	}
}

// hydrate fills in the question snapshots of loaded attempts, from the cache or with one
// query for all that are missing. Errors: a snapshot missing from the database is an
// internal error (they are written before the attempt that uses them).
func (s *Service) hydrate(ctx context.Context, list ...*Attempt) error {
	if err := s.loadPapers(ctx, list); err != nil {
		return err
	}
	if err := s.loadSnapshots(ctx, list); err != nil {
		return err
	}
	for _, a := range list {
		if a.Result != nil {
			a.Result.Questions = ComputeResult(a).Questions
		}
	}
	return nil
}

// paper is the immutable list of questions an attempt was given.
type paper struct {
	ID        string            `bson:"_id"`
	Questions []AttemptQuestion `bson:"questions"`
}

// loadPapers fills in the questions of attempts from the attempt cache or attempt_papers.
func (s *Service) loadPapers(ctx context.Context, list []*Attempt) error {
	var missing []string
	s.mu.Lock()
	for _, a := range list {
		if a.Questions != nil {
			continue
		}
		if c, ok := s.attemptCache[a.ID]; ok {
			a.Questions = c.Questions
		} else {
			missing = append(missing, a.ID)
		}
	}
	s.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	docs, err := s.findPapers(ctx, missing)
	if err != nil {
		return fmt.Errorf("assessment: load attempt papers: %w", err)
	}
	byID := make(map[string][]AttemptQuestion, len(docs))
	for _, d := range docs {
		byID[d.ID] = d.Questions
	}
	for _, a := range list {
		if a.Questions == nil {
			q, ok := byID[a.ID]
			if !ok {
				return fmt.Errorf("assessment: attempt %s has no paper", a.ID)
			}
			a.Questions = q
		}
	}
	return nil
}

// findPapers reads the papers of the given attempts (by _id, see database.FindByIDs).
func (s *Service) findPapers(ctx context.Context, attemptIDs []string) ([]paper, error) {
	docs, err := database.FindByIDs[paper](ctx, s.papers, attemptIDs)
	return docs, dbErr(err)
}

func (s *Service) loadSnapshots(ctx context.Context, list []*Attempt) error {
	var missing []string
	s.mu.Lock()
	for _, a := range list {
		for i := range a.Questions {
			aq := &a.Questions[i]
			if q, ok := s.snapshots[snapshotKey(aq.QuestionID, aq.Version)]; ok {
				aq.Question = q
			} else {
				missing = append(missing, snapshotKey(aq.QuestionID, aq.Version))
			}
		}
	}
	s.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	docs, err := database.FindByIDs[snapshotDoc](ctx, s.versions, missing)
	if err != nil {
		return fmt.Errorf("assessment: load question versions: %w", dbErr(err))
	}
	found := make(map[string]Question, len(docs))
	qs := make([]Question, 0, len(docs))
	for _, d := range docs {
		found[d.ID] = d.Question
		qs = append(qs, d.Question)
	}
	s.rememberSnapshots(qs)
	for _, a := range list {
		for i := range a.Questions {
			aq := &a.Questions[i]
			if aq.Question.ID != "" {
				continue
			}
			q, ok := found[snapshotKey(aq.QuestionID, aq.Version)]
			if !ok {
				return fmt.Errorf("assessment: attempt %s: question %s version %d is missing", a.ID, aq.QuestionID, aq.Version)
			}
			aq.Question = q
		}
	}
	return nil
}
