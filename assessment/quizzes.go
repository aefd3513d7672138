package assessment

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/audit/trail"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

// Limits of a quiz.
const (
	maxItems       = 500
	maxDraw        = 500
	maxTimeLimitS  = 7 * 24 * 3600
	maxAttemptsCap = 100
	maxExtraTimeS  = 7 * 24 * 3600
)

// questionPool is what attempts of a quiz are drawn from: the fixed questions by id and,
// per random item (by item index), its candidates.
type questionPool struct {
	fixed map[string]Question
	draws map[int][]Question
	// accommodations of the quiz by user id, read with the quiz so a start costs no
	// extra scan.
	accommodations map[string]Accommodation
}

// buildQuiz validates input, checking that fixed questions exist in banks the caller may
// use and that each random draw has enough candidates.
func (s *Service) buildQuiz(ctx context.Context, actor accounts.Principal, in QuizInput) (Quiz, error) {
	var f errs.Fields
	q := Quiz{CourseID: strings.TrimSpace(in.CourseID), Title: strings.TrimSpace(in.Title), Description: strings.TrimSpace(in.Description),
		TimeLimitS: in.TimeLimitS, MaxAttempts: in.MaxAttempts, Grading: in.Grading, Shuffle: in.Shuffle, Required: in.Required,
		Review: DefaultReview, PassPercent: 50}
	f.Check(!ids.Valid(q.CourseID), "course_id", "is not a course id")
	f.Check(q.Title == "" || utf8.RuneCountInString(q.Title) > 255, "title", "is required, at most 255 characters")
	f.Check(utf8.RuneCountInString(q.Description) > maxTextLen, "description", "is too long")
	f.Check(q.TimeLimitS < 0 || q.TimeLimitS > maxTimeLimitS, "time_limit_s", "must be between 0 (no limit) and 604800")
	f.Check(q.MaxAttempts < 0 || q.MaxAttempts > maxAttemptsCap, "max_attempts", "must be between 0 (unlimited) and 100")
	if in.PassPercent != nil {
		q.PassPercent = *in.PassPercent
	}
	f.Check(math.IsNaN(q.PassPercent) || q.PassPercent < 0 || q.PassPercent > 100, "pass_percent", "must be between 0 and 100")
	if q.Grading == "" {
		q.Grading = GradeHighest
	}
	f.Check(q.Grading != GradeHighest && q.Grading != GradeLast && q.Grading != GradeAverage, "grading", "must be highest, last or average")
	if in.OpensAt != nil {
		t := in.OpensAt.UTC()
		q.OpensAt = &t
	}
	if in.ClosesAt != nil {
		t := in.ClosesAt.UTC()
		q.ClosesAt = &t
	}
	f.Check(q.OpensAt != nil && q.ClosesAt != nil && !q.ClosesAt.After(*q.OpensAt), "closes_at", "must be after opens_at")
	if in.Review != nil {
		q.Review = *in.Review
	}
	f.Check(len(in.Items) == 0 || len(in.Items) > maxItems, "items", "a quiz needs 1 to 500 items")
	if err := f.Err(); err != nil {
		return q, err
	}
	fixed := map[string]bool{}
	total := 0
	for i, it := range in.Items {
		field := fmt.Sprintf("items[%d]", i)
		if math.IsNaN(it.Points) || it.Points < 0 || it.Points > maxPoints {
			f.Add(field+".points", "must be between 0 and 1000")
		}
		switch {
		case (it.QuestionID == "") == (it.Random == nil):
			f.Add(field, "give either question_id or random")
		case it.QuestionID != "":
			if fixed[it.QuestionID] {
				f.Add(field+".question_id", "is already in the quiz")
				continue
			}
			fixed[it.QuestionID] = true
			qu, err := s.findQuestion(ctx, actor, it.QuestionID)
			if err != nil {
				if errors.Is(err, errs.ErrNotFound) {
					f.Add(field+".question_id", "no such question in your banks")
					continue
				}
				return q, err
			}
			if qu.Archived {
				f.Add(field+".question_id", "the question is archived")
				continue
			}
			total++
			q.Items = append(q.Items, Item{QuestionID: it.QuestionID, Points: it.Points})
		default:
			r := *it.Random
			r.Category = CleanCategory(r.Category)
			if r.Count < 1 || r.Count > maxDraw {
				f.Add(field+".random.count", "must be between 1 and 500")
				continue
			}
			b, err := s.bank(ctx, actor, r.Bank, false)
			if errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrForbidden) || errors.Is(err, errs.ErrInvalid) {
				f.Add(field+".random.bank", "no such bank among yours")
				continue
			} else if err != nil {
				return q, err
			}
			r.Bank = b.Name
			n, err := s.questions.CountDocuments(ctx, drawFilter(r))
			if err != nil {
				return q, fmt.Errorf("assessment: count questions: %w", dbErr(err))
			}
			if int(n) < r.Count {
				f.Add(field+".random.count", fmt.Sprintf("the bank has only %d matching questions", n))
				continue
			}
			total += r.Count
			q.Items = append(q.Items, Item{Random: &r, Points: it.Points})
		}
	}
	f.Check(total > maxItems, "items", "a quiz may hold at most 500 questions")
	return q, f.Err()
}

func drawFilter(r RandomDraw) bson.M {
	m := questionFilter(QuestionFilter{Bank: r.Bank, Category: r.Category, Tags: r.Tags})
	m["type"] = bson.M{"$ne": TypeDescription}
	return m
}

// CreateQuiz creates a quiz owned by the calling lecturer. Errors: ErrForbidden,
// ErrInvalid (with fields).
func (s *Service) CreateQuiz(ctx context.Context, actor accounts.Principal, in QuizInput) (Quiz, error) {
	if !isLecturer(actor) && !isAdmin(actor) {
		return Quiz{}, fmt.Errorf("assessment: create quiz: %w", errs.ErrForbidden)
	}
	q, err := s.buildQuiz(ctx, actor, in)
	if err != nil {
		return Quiz{}, err
	}
	now := s.now()
	q.ID, q.OwnerID, q.CreatedAt, q.UpdatedAt = ids.New(), actor.User.ID, now, now
	if _, err := s.quizzes.InsertOne(ctx, q); err != nil {
		return Quiz{}, fmt.Errorf("assessment: create quiz: %w", dbErr(err))
	}
	return q, nil
}

// UpdateQuiz replaces a quiz's settings and items. Attempts already started keep the
// questions and deadline they were given. Errors: ErrNotFound, ErrForbidden (not the
// owner or an admin), ErrInvalid.
func (s *Service) UpdateQuiz(ctx context.Context, actor accounts.Principal, id string, in QuizInput) (Quiz, error) {
	old, err := s.findQuiz(ctx, id)
	if err != nil {
		return Quiz{}, err
	}
	if !isAdmin(actor) && !(isLecturer(actor) && old.OwnerID == actor.User.ID) {
		return Quiz{}, fmt.Errorf("assessment: edit quiz: %w", errs.ErrForbidden)
	}
	q, err := s.buildQuiz(ctx, actor, in)
	if err != nil {
		return Quiz{}, err
	}
	q.ID, q.OwnerID, q.CreatedAt, q.UpdatedAt = old.ID, old.OwnerID, old.CreatedAt, s.now()
	if _, err := s.quizzes.ReplaceOne(ctx, bson.M{"_id": id}, q); err != nil {
		return Quiz{}, fmt.Errorf("assessment: edit quiz: %w", dbErr(err))
	}
	s.invalidateQuiz(id)
	return q, nil
}

func (s *Service) findQuiz(ctx context.Context, id string) (Quiz, error) {
	var q Quiz
	if !ids.Valid(id) {
		return q, fmt.Errorf("assessment: quiz %q: %w", id, errs.ErrNotFound)
	}
	if err := s.quizzes.FindOne(ctx, bson.M{"_id": id}).Decode(&q); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return q, fmt.Errorf("assessment: quiz %s: %w", id, errs.ErrNotFound)
		}
		return q, fmt.Errorf("assessment: find quiz: %w", dbErr(err))
	}
	return q, nil
}

// loadQuiz returns a quiz and its question pool, from the cache when fresh.
// When the entry is stale, one caller reads the database and the others that arrive
// meanwhile wait for its answer, so a province starting an exam at once reads the quiz
// once, not once per learner.
func (s *Service) loadQuiz(ctx context.Context, id string) (Quiz, *questionPool, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.quizCache[id]
	if ok && now.Before(c.until) {
		s.mu.Unlock()
		return c.quiz, c.pool, nil
	}
	if f, ok := s.quizLoads[id]; ok {
		s.mu.Unlock()
		select {
		case <-f.done:
			return f.quiz, f.pool, f.err
		case <-ctx.Done():
			return Quiz{}, nil, fmt.Errorf("assessment: load quiz: %w", ctx.Err())
		}
	}
	f := &quizLoad{done: make(chan struct{})}
	s.quizLoads[id] = f
	gen := s.cacheGen
	s.mu.Unlock()
	f.quiz, f.pool, f.err = s.readQuiz(ctx, id)
	s.mu.Lock()
	delete(s.quizLoads, id)
	// An edit made while reading may not be in what was read: cache only if none was.
	if f.err == nil && gen == s.cacheGen {
		s.quizCache[id] = cachedQuiz{quiz: f.quiz, pool: f.pool, until: now.Add(s.ttl)}
	}
	s.mu.Unlock()
	close(f.done)
	return f.quiz, f.pool, f.err
}

// quizLoad is a read of a quiz and its pool that other callers may wait for.
type quizLoad struct {
	done chan struct{}
	quiz Quiz
	pool *questionPool
	err  error
}

func (s *Service) readQuiz(ctx context.Context, id string) (Quiz, *questionPool, error) {
	q, err := s.findQuiz(ctx, id)
	if err != nil {
		return q, nil, err
	}
	pool := &questionPool{fixed: map[string]Question{}, draws: map[int][]Question{}, accommodations: map[string]Accommodation{}}
	cur, err := s.accommodations.Find(ctx, bson.M{"quiz_id": id})
	if err != nil {
		return q, nil, fmt.Errorf("assessment: load accommodations: %w", dbErr(err))
	}
	var accs []Accommodation
	if err := cur.All(ctx, &accs); err != nil {
		return q, nil, fmt.Errorf("assessment: load accommodations: %w", dbErr(err))
	}
	for _, a := range accs {
		pool.accommodations[a.UserID] = a
	}
	var fixedIDs []string
	for i, it := range q.Items {
		if it.QuestionID != "" {
			fixedIDs = append(fixedIDs, it.QuestionID)
			continue
		}
		cur, err := s.questions.Find(ctx, drawFilter(*it.Random), options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return q, nil, fmt.Errorf("assessment: load draw: %w", dbErr(err))
		}
		var list []Question
		if err := cur.All(ctx, &list); err != nil {
			return q, nil, fmt.Errorf("assessment: load draw: %w", dbErr(err))
		}
		pool.draws[i] = list
	}
	if len(fixedIDs) > 0 {
		cur, err := s.questions.Find(ctx, bson.M{"_id": bson.M{"$in": fixedIDs}, "archived": bson.M{"$ne": true}})
		if err != nil {
			return q, nil, fmt.Errorf("assessment: load questions: %w", dbErr(err))
		}
		var list []Question
		if err := cur.All(ctx, &list); err != nil {
			return q, nil, fmt.Errorf("assessment: load questions: %w", dbErr(err))
		}
		for _, qu := range list {
			pool.fixed[qu.ID] = qu
		}
	}
	return q, pool, nil
}

// GetQuiz returns a quiz. Staff who manage it or see its results get it whole; an
// enrolled learner gets it without its items. Errors: ErrNotFound (also for learners not
// enrolled in the course).
func (s *Service) GetQuiz(ctx context.Context, actor accounts.Principal, id string) (Quiz, error) {
	q, err := s.findQuiz(ctx, id)
	if err != nil {
		return Quiz{}, err
	}
	if ok, err := s.canSeeResults(ctx, actor, q); err != nil || ok {
		return q, err
	}
	if isLecturer(actor) {
		return q, nil // lecturers may look at colleagues' quizzes; editing is the owner's
	}
	enrolled, err := s.enrolments.IsEnrolledInCourse(ctx, actor.User.ID, q.CourseID)
	if err != nil {
		return Quiz{}, fmt.Errorf("assessment: check enrolment: %w", err)
	}
	if !enrolled {
		return Quiz{}, fmt.Errorf("assessment: quiz %s: %w", id, errs.ErrNotFound)
	}
	q.Items = nil
	return q, nil
}

// ListQuizzes lists a course's quizzes: whole for staff, without items for enrolled
// learners. Errors: ErrNotFound for learners not enrolled.
func (s *Service) ListQuizzes(ctx context.Context, actor accounts.Principal, courseID string) ([]Quiz, error) {
	staff := isAdmin(actor) || isLecturer(actor)
	if !staff && actor.Has(accounts.RoleTrainer) {
		ok, err := s.enrolments.IsTrainerOfCourse(ctx, actor.User.ID, courseID)
		if err != nil {
			return nil, fmt.Errorf("assessment: check trainer: %w", err)
		}
		staff = ok
	}
	if !staff {
		ok, err := s.enrolments.IsEnrolledInCourse(ctx, actor.User.ID, courseID)
		if err != nil {
			return nil, fmt.Errorf("assessment: check enrolment: %w", err)
		}
		if !ok {
			return nil, fmt.Errorf("assessment: course %s: %w", courseID, errs.ErrNotFound)
		}
	}
	cur, err := s.quizzes.Find(ctx, bson.M{"course_id": courseID}, options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("assessment: list quizzes: %w", dbErr(err))
	}
	out := []Quiz{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("assessment: list quizzes: %w", dbErr(err))
	}
	if !staff {
		for i := range out {
			out[i].Items = nil
		}
	}
	return out, nil
}

// SetAccommodation gives a learner extra time (added to the time limit, still capped by
// the close time) and extra attempts on a quiz, for attempts started from now on.
// Admins, the quiz owner and trainers of the course may. Errors: ErrNotFound,
// ErrForbidden, ErrInvalid.
func (s *Service) SetAccommodation(ctx context.Context, actor accounts.Principal, quizID, userID string, extraTimeS, extraAttempts int) (Accommodation, error) {
	q, err := s.findQuiz(ctx, quizID)
	if err != nil {
		return Accommodation{}, err
	}
	ok, err := s.canSeeResults(ctx, actor, q)
	if err != nil {
		return Accommodation{}, err
	}
	if !ok {
		return Accommodation{}, fmt.Errorf("assessment: accommodations: %w", errs.ErrForbidden)
	}
	if ok, err := s.canSeeLearner(ctx, actor, q, userID); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("assessment: learner %s: %w", userID, errs.ErrNotFound)
		}
		return Accommodation{}, err
	}
	var f errs.Fields
	f.Check(!ids.Valid(userID), "user_id", "is not a user id")
	f.Check(extraTimeS < 0 || extraTimeS > maxExtraTimeS, "extra_time_s", "must be between 0 and 604800")
	f.Check(extraAttempts < 0 || extraAttempts > maxAttemptsCap, "extra_attempts", "must be between 0 and 100")
	if err := f.Err(); err != nil {
		return Accommodation{}, err
	}
	a := Accommodation{ID: quizID + ":" + userID, QuizID: quizID, UserID: userID, ExtraTimeS: extraTimeS, ExtraAttempts: extraAttempts,
		UpdatedBy: actor.User.ID, UpdatedAt: s.now()}
	if _, err := s.accommodations.ReplaceOne(ctx, bson.M{"_id": a.ID}, a, options.Replace().SetUpsert(true)); err != nil {
		return Accommodation{}, fmt.Errorf("assessment: set accommodation: %w", dbErr(err))
	}
	s.mu.Lock()
	if len(s.recentAcc) >= 10_000 {
		clear(s.recentAcc)
	}
	s.recentAcc[a.ID] = a
	s.mu.Unlock()
	s.invalidateQuiz(quizID)
	e := actor.AuditActor().Did(trail.AccommodationSet, "quiz:"+quizID, q.Title).About(userID).With("user_id", userID).
		With("extra_time_s", strconv.Itoa(extraTimeS)).With("extra_attempts", strconv.Itoa(extraAttempts))
	if err := trail.Record(ctx, s.audit, e); err != nil {
		return Accommodation{}, err
	}
	return a, nil
}

// latestAccommodation returns a learner's accommodation on a quiz: the one read with the
// quiz, or the one this process wrote since if that is newer. The second covers reads
// that do not yet see a write made a moment before (observed on embedded FerretDB, whose
// SQLite connections may read an older snapshot for a few milliseconds).
func (s *Service) latestAccommodation(pool *questionPool, quizID, userID string) Accommodation {
	acc := pool.accommodations[userID]
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.recentAcc[quizID+":"+userID]; ok && r.UpdatedAt.After(acc.UpdatedAt) {
		return r
	}
	return acc
}

// drawQuestions builds the questions of a new attempt: fixed items as they are now,
// random items freshly drawn (never repeating a question), shuffled when the quiz says so.
func drawQuestions(q Quiz, pool *questionPool, rnd interface{ IntN(int) int }) []AttemptQuestion {
	used := map[string]bool{}
	for _, it := range q.Items {
		if it.QuestionID != "" {
			used[it.QuestionID] = true
		}
	}
	var out []AttemptQuestion
	points := func(it Item, qu Question) float64 {
		if it.Points > 0 {
			return it.Points
		}
		return qu.Points
	}
	for i, it := range q.Items {
		if it.QuestionID != "" {
			qu, ok := pool.fixed[it.QuestionID]
			if !ok {
				continue // deleted from the bank since the quiz was made
			}
			out = append(out, AttemptQuestion{QuestionID: qu.ID, Version: qu.Version, Question: qu, Points: points(it, qu)})
			continue
		}
		cands := slices.Clone(pool.draws[i])
		n := 0
		for n < it.Random.Count && len(cands) > 0 {
			k := rnd.IntN(len(cands))
			qu := cands[k]
			cands[k] = cands[len(cands)-1]
			cands = cands[:len(cands)-1]
			if used[qu.ID] {
				continue
			}
			used[qu.ID] = true
			out = append(out, AttemptQuestion{QuestionID: qu.ID, Version: qu.Version, Question: qu, Points: points(it, qu)})
			n++
		}
	}
	if q.Shuffle {
		shuffle(rnd, out)
	}
	for i := range out {
		qu := &out[i].Question
		switch qu.Type {
		case TypeSingle, TypeMultiple, TypeTrueFalse, TypeOrdering:
			order := make([]string, len(qu.Choices))
			for k, c := range qu.Choices {
				order[k] = c.ID
			}
			// Ordering items are always shuffled (their order is the answer) and never
			// shown in the correct order; true/false keeps true before false.
			switch {
			case qu.Type == TypeOrdering:
				for try := 0; try < 10 && sameOrder(order, qu.Choices); try++ {
					shuffle(rnd, order)
				}
			case q.Shuffle && qu.Type != TypeTrueFalse:
				shuffle(rnd, order)
			}
			out[i].ChoiceOrder = order
		case TypeMatching:
			var opts []string
			for _, p := range qu.Pairs {
				if !slices.Contains(opts, p.Right) {
					opts = append(opts, p.Right)
				}
			}
			shuffle(rnd, opts)
			out[i].OptionOrder = opts
		}
	}
	return out
}

func sameOrder(order []string, choices []Choice) bool {
	for i, c := range choices {
		if order[i] != c.ID {
			return false
		}
	}
	return true
}

func shuffle[T any](rnd interface{ IntN(int) int }, s []T) {
	for i := len(s) - 1; i > 0; i-- {
		j := rnd.IntN(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}
