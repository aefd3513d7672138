package assessment

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
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
	if _, err := s.versions.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil {
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
			return fmt.Errorf("assessment: store question versions: %w", dbErr(err))
		}
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 && !strings.Contains(we.Message, "duplicate key") {
				return fmt.Errorf("assessment: store question versions: %w", err)
			}
		}
	}
	s.rememberSnapshots(fresh)
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
	cur, err := s.papers.Find(ctx, bson.M{"_id": bson.M{"$in": missing}})
	if err != nil {
		return fmt.Errorf("assessment: load attempt papers: %w", dbErr(err))
	}
	var docs []paper
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("assessment: load attempt papers: %w", dbErr(err))
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
	cur, err := s.versions.Find(ctx, bson.M{"_id": bson.M{"$in": missing}})
	if err != nil {
		return fmt.Errorf("assessment: load question versions: %w", dbErr(err))
	}
	var docs []snapshotDoc
	if err := cur.All(ctx, &docs); err != nil {
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
