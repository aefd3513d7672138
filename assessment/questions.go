package assessment

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/assessment/importer"
	"hoctap/audit/trail"
	"hoctap/internal/database"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

// Limits on what a question may hold, so one document stays far below 16 MB.
const (
	maxTextLen     = 50_000
	maxShortLen    = 2_000
	maxChoices     = 50
	maxTags        = 30
	maxTagLen      = 64
	maxBankNameLen = 200
	maxCategoryLen = 500
	maxPoints      = 1000
)

var choiceIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// cleanName trims a bank name or tag and rejects control characters.
func cleanName(s string, maxLen int) (string, string) {
	s = strings.Join(strings.Fields(s), " ")
	switch {
	case s == "":
		return "", "is required"
	case utf8.RuneCountInString(s) > maxLen:
		return "", fmt.Sprintf("is longer than %d characters", maxLen)
	case strings.ContainsFunc(s, unicode.IsControl) || !utf8.ValidString(s):
		return "", "contains control characters"
	}
	return s, ""
}

// CleanCategory normalises a category path: segments trimmed, empty ones dropped,
// joined with "/". "" is the bank's top level.
func CleanCategory(c string) string {
	var out []string
	for _, seg := range strings.Split(c, "/") {
		if seg = strings.Join(strings.Fields(seg), " "); seg != "" {
			out = append(out, seg)
		}
	}
	return strings.Join(out, "/")
}

// buildQuestion validates input and turns it into a question (without id, version,
// owner or times). Every problem is reported by field.
func buildQuestion(in QuestionInput) (Question, error) {
	var f errs.Fields
	q := Question{Type: in.Type, Format: in.Format, CaseSensitive: in.CaseSensitive, AccentSensitive: in.AccentSensitive}
	var why string
	if q.Bank, why = cleanName(in.Bank, maxBankNameLen); why != "" {
		f.Add("bank", why)
	}
	q.Category = CleanCategory(in.Category)
	f.Check(utf8.RuneCountInString(q.Category) > maxCategoryLen || strings.ContainsFunc(q.Category, unicode.IsControl), "category", "is too long or contains control characters")
	f.Check(!slices.Contains(Types, in.Type), "type", "must be one of single, multiple, true_false, short_answer, numerical, matching, ordering, essay, description")
	f.Check(in.Format != "" && in.Format != "html" && in.Format != "markdown", "format", "must be empty, html or markdown")
	q.Title = strings.TrimSpace(in.Title)
	f.Check(utf8.RuneCountInString(q.Title) > 255, "title", "is longer than 255 characters")
	q.Text = strings.TrimSpace(in.Text)
	f.Check(q.Text == "", "text", "is required")
	f.Check(utf8.RuneCountInString(q.Text) > maxTextLen || !utf8.ValidString(q.Text), "text", fmt.Sprintf("is longer than %d characters", maxTextLen))
	q.Feedback = strings.TrimSpace(in.Feedback)
	f.Check(utf8.RuneCountInString(q.Feedback) > maxTextLen, "feedback", "is too long")
	q.Points = 1
	if in.Type == TypeDescription {
		q.Points = 0
	}
	if in.Points != nil {
		q.Points = *in.Points
	}
	f.Check(math.IsNaN(q.Points) || q.Points < 0 || q.Points > maxPoints, "points", fmt.Sprintf("must be between 0 and %d", maxPoints))
	q.Tags = []string{}
	f.Check(len(in.Tags) > maxTags, "tags", fmt.Sprintf("at most %d tags", maxTags))
	for _, t := range in.Tags {
		t, why := cleanName(t, maxTagLen)
		if why != "" {
			f.Add("tags", "a tag "+why)
			continue
		}
		if !slices.Contains(q.Tags, t) {
			q.Tags = append(q.Tags, t)
		}
	}
	f.Check(len(in.Choices) > maxChoices || len(in.Answers) > maxChoices || len(in.Numeric) > maxChoices || len(in.Pairs) > maxChoices,
		"choices", fmt.Sprintf("at most %d choices, answers or pairs", maxChoices))
	if err := f.Err(); err != nil {
		return q, err
	}

	seen := map[string]bool{}
	newID := func(given string) (string, bool) {
		if given == "" {
			for {
				id := ids.Secret(6)
				if !seen[id] {
					seen[id] = true
					return id, true
				}
			}
		}
		if !choiceIDPattern.MatchString(given) || seen[given] {
			return "", false
		}
		seen[given] = true
		return given, true
	}
	short := func(field, s string) string {
		s = strings.TrimSpace(s)
		f.Check(utf8.RuneCountInString(s) > maxShortLen, field, fmt.Sprintf("is longer than %d characters", maxShortLen))
		return s
	}
	switch in.Type {
	case TypeSingle, TypeMultiple, TypeOrdering:
		nCorrect, nWrong := 0, 0
		for _, c := range in.Choices {
			if c.Correct || (c.Fraction != nil && *c.Fraction > 0) {
				nCorrect++
			} else {
				nWrong++
			}
		}
		for i, c := range in.Choices {
			id, ok := newID(c.ID)
			if !ok {
				f.Add(fmt.Sprintf("choices[%d].id", i), "must be unique letters, digits, - or _ (at most 32)")
			}
			ch := Choice{ID: id, Text: short(fmt.Sprintf("choices[%d].text", i), c.Text), Feedback: strings.TrimSpace(c.Feedback)}
			f.Check(ch.Text == "", fmt.Sprintf("choices[%d].text", i), "is required")
			switch {
			case in.Type == TypeOrdering:
			case c.Fraction != nil:
				ch.Fraction = math.Round(*c.Fraction*1e7) / 1e7
			case c.Correct && in.Type == TypeSingle:
				ch.Fraction = 1
			case c.Correct:
				ch.Fraction = math.Round(1e7/float64(nCorrect)) / 1e7
			case in.Type == TypeMultiple && nWrong > 0:
				ch.Fraction = -math.Round(1e7/float64(nWrong)) / 1e7
			}
			ch.Correct = in.Type != TypeOrdering && ch.Fraction > 0
			q.Choices = append(q.Choices, ch)
		}
	case TypeTrueFalse:
		key, known := trueFalseKey(in)
		if !known {
			f.Add("answers", `a true/false question needs answers ["true"] or ["false"], or choices with ids "true" and "false" marking the correct one`)
			break
		}
		fb := map[string]string{}
		for _, c := range in.Choices {
			fb[strings.ToLower(c.ID)] = strings.TrimSpace(c.Feedback)
		}
		q.Choices = []Choice{
			{ID: "true", Text: "True", Correct: key, Fraction: b2f(key), Feedback: fb["true"]},
			{ID: "false", Text: "False", Correct: !key, Fraction: b2f(!key), Feedback: fb["false"]},
		}
	case TypeShortAnswer:
		for i, a := range in.Answers {
			q.Answers = append(q.Answers, AcceptedAnswer{Text: short(fmt.Sprintf("answers[%d]", i), a.Text), Fraction: math.Round(a.Fraction*1e7) / 1e7, Feedback: strings.TrimSpace(a.Feedback)})
		}
	case TypeNumerical:
		q.Numeric = append(q.Numeric, in.Numeric...)
		if len(in.Numeric) == 0 {
			// Numbers given as plain answers: "42" or "3.14:0.01" or "1..5".
			for i, a := range in.Answers {
				qs, errsFound := importer.ParseGIFT([]byte("x{#" + strings.ReplaceAll(a.Text, "}", "") + "}"))
				if len(errsFound) > 0 || len(qs) != 1 {
					f.Add(fmt.Sprintf("answers[%d]", i), "is not a number, value:tolerance or min..max")
					continue
				}
				n := qs[0].Numeric[0]
				q.Numeric = append(q.Numeric, NumericAnswer{Value: n.Value, Tolerance: n.Tolerance, Fraction: a.Fraction, Feedback: a.Feedback})
			}
		}
	case TypeMatching:
		for i, p := range in.Pairs {
			id, ok := newID(p.ID)
			if !ok {
				f.Add(fmt.Sprintf("pairs[%d].id", i), "must be unique letters, digits, - or _ (at most 32)")
			}
			q.Pairs = append(q.Pairs, Pair{ID: id, Left: short(fmt.Sprintf("pairs[%d].left", i), p.Left), Right: short(fmt.Sprintf("pairs[%d].right", i), p.Right)})
		}
	}
	if err := f.Err(); err != nil {
		return q, err
	}
	iq := toImporter(q)
	if msg := importer.Validate(&iq); msg != "" {
		return q, errs.Invalid("invalid question: "+msg, map[string]string{"choices": msg})
	}
	return q, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// trueFalseKey finds the key of a true/false question in either input form.
func trueFalseKey(in QuestionInput) (key, known bool) {
	if len(in.Answers) == 1 {
		switch strings.ToLower(strings.TrimSpace(in.Answers[0].Text)) {
		case "true", "t", "đúng", "dung":
			return true, true
		case "false", "f", "sai":
			return false, true
		}
		return false, false
	}
	for _, c := range in.Choices {
		if c.Correct {
			switch strings.ToLower(c.ID) {
			case "true":
				return true, true
			case "false":
				return false, true
			}
		}
	}
	return false, false
}

// toImporter converts a bank question to the importer's form, for export and for the
// type rules the two share.
func toImporter(q Question) importer.Question {
	iq := importer.Question{Name: q.Title, Category: q.Category, Type: importer.Type(q.Type), Format: q.Format, Text: q.Text,
		CaseSensitive: q.CaseSensitive, Feedback: q.Feedback, Tags: q.Tags, Points: q.Points}
	switch q.Type {
	case TypeTrueFalse:
		for _, c := range q.Choices {
			if c.ID == "true" {
				iq.Correct, iq.TrueFeedback = c.Correct, c.Feedback
			} else {
				iq.FalseFeedback = c.Feedback
			}
		}
	default:
		for _, c := range q.Choices {
			iq.Choices = append(iq.Choices, importer.Choice{Text: c.Text, Fraction: c.Fraction, Feedback: c.Feedback})
		}
	}
	for _, a := range q.Answers {
		iq.Answers = append(iq.Answers, importer.Answer{Text: a.Text, Fraction: a.Fraction, Feedback: a.Feedback})
	}
	for _, n := range q.Numeric {
		iq.Numeric = append(iq.Numeric, importer.Numeric{Value: n.Value, Tolerance: n.Tolerance, Fraction: n.Fraction, Feedback: n.Feedback})
	}
	for _, p := range q.Pairs {
		iq.Pairs = append(iq.Pairs, importer.Pair{Left: p.Left, Right: p.Right})
	}
	return iq
}

// fromImporter turns an imported question into the input a lecturer would have typed.
func fromImporter(bank string, iq importer.Question) QuestionInput {
	pts := iq.Points
	in := QuestionInput{Bank: bank, Category: iq.Category, Type: Type(iq.Type), Title: iq.Name, Format: iq.Format, Text: iq.Text,
		CaseSensitive: iq.CaseSensitive, Feedback: iq.Feedback, Tags: iq.Tags, Points: &pts}
	switch iq.Type {
	case importer.TrueFalse:
		in.Choices = []ChoiceInput{{ID: "true", Correct: iq.Correct, Feedback: iq.TrueFeedback}, {ID: "false", Correct: !iq.Correct, Feedback: iq.FalseFeedback}}
	default:
		for _, c := range iq.Choices {
			fr := c.Fraction
			in.Choices = append(in.Choices, ChoiceInput{Text: c.Text, Fraction: &fr, Feedback: c.Feedback})
		}
	}
	for _, a := range iq.Answers {
		in.Answers = append(in.Answers, AcceptedAnswer{Text: a.Text, Fraction: a.Fraction, Feedback: a.Feedback})
	}
	for _, n := range iq.Numeric {
		in.Numeric = append(in.Numeric, NumericAnswer{Value: n.Value, Tolerance: n.Tolerance, Fraction: n.Fraction, Feedback: n.Feedback})
	}
	for _, p := range iq.Pairs {
		in.Pairs = append(in.Pairs, Pair{Left: p.Left, Right: p.Right})
	}
	return in
}

// bank returns the named bank if the caller may use it. With create, a lecturer's first
// use of a new name creates it with them as owner. Errors: ErrForbidden for callers who
// are not lecturers or admins or with whom the bank is not shared, ErrNotFound for a
// missing bank when create is false.
func (s *Service) bank(ctx context.Context, actor accounts.Principal, name string, create bool) (Bank, error) {
	if !isLecturer(actor) && !isAdmin(actor) {
		return Bank{}, fmt.Errorf("assessment: only lecturers and admins use question banks: %w", errs.ErrForbidden)
	}
	name, why := cleanName(name, maxBankNameLen)
	if why != "" {
		return Bank{}, errs.Field("bank", why)
	}
	for range 3 {
		var b Bank
		err := s.banks.FindOne(ctx, bson.M{"name": name}).Decode(&b)
		if err == nil {
			if isAdmin(actor) || b.OwnerID == actor.User.ID || (isLecturer(actor) && slices.Contains(b.SharedWith, actor.User.ID)) {
				return b, nil
			}
			return Bank{}, fmt.Errorf("assessment: bank %q is not shared with you: %w", name, errs.ErrForbidden)
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return Bank{}, fmt.Errorf("assessment: find bank: %w", dbErr(err))
		}
		if !create {
			return Bank{}, fmt.Errorf("assessment: bank %q: %w", name, errs.ErrNotFound)
		}
		now := s.now()
		b = Bank{ID: ids.New(), Name: name, OwnerID: actor.User.ID, SharedWith: []string{}, CreatedAt: now, UpdatedAt: now}
		if _, err := s.banks.InsertOne(ctx, b); err == nil {
			return b, nil
		} else if !database.IsDuplicateKey(err) {
			return Bank{}, fmt.Errorf("assessment: create bank: %w", dbErr(err))
		}
		// Another lecturer created it a moment ago: read it again.
	}
	return Bank{}, fmt.Errorf("assessment: bank %q keeps changing: %w", name, errs.ErrConflict)
}

// ListBanks returns the banks the caller may use: every bank for admins, owned or shared
// ones for lecturers. Errors: ErrForbidden for other roles.
func (s *Service) ListBanks(ctx context.Context, actor accounts.Principal) ([]Bank, error) {
	filter := bson.M{}
	switch {
	case isAdmin(actor):
	case isLecturer(actor):
		filter = bson.M{"$or": bson.A{bson.M{"owner_id": actor.User.ID}, bson.M{"shared_with": actor.User.ID}}}
	default:
		return nil, fmt.Errorf("assessment: list banks: %w", errs.ErrForbidden)
	}
	cur, err := s.banks.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "name", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("assessment: list banks: %w", dbErr(err))
	}
	out := []Bank{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("assessment: list banks: %w", dbErr(err))
	}
	return out, nil
}

// ShareBank sets the lecturers (besides the owner) who may use a bank. Only admins may.
// Errors: ErrForbidden, ErrNotFound, ErrInvalid for malformed user ids.
func (s *Service) ShareBank(ctx context.Context, actor accounts.Principal, name string, lecturerIDs []string) (Bank, error) {
	if !isAdmin(actor) {
		return Bank{}, fmt.Errorf("assessment: only admins share banks: %w", errs.ErrForbidden)
	}
	b, err := s.bank(ctx, actor, name, false)
	if err != nil {
		return Bank{}, err
	}
	shared := []string{}
	for _, id := range lecturerIDs {
		if !ids.Valid(id) {
			return Bank{}, errs.Field("user_ids", fmt.Sprintf("%q is not a user id", id))
		}
		if !slices.Contains(shared, id) {
			shared = append(shared, id)
		}
	}
	now := s.now()
	if _, err := s.banks.UpdateOne(ctx, bson.M{"_id": b.ID}, bson.M{"$set": bson.M{"shared_with": shared, "updated_at": now}}); err != nil {
		return Bank{}, fmt.Errorf("assessment: share bank: %w", dbErr(err))
	}
	b.SharedWith, b.UpdatedAt = shared, now
	e := actor.AuditActor().Did(trail.BankShare, "bank:"+b.ID, b.Name).With("lecturers", strings.Join(shared, ","))
	if err := trail.Record(ctx, s.audit, e); err != nil {
		return Bank{}, err
	}
	return b, nil
}

// CreateQuestion adds a question to a bank, creating the bank on a lecturer's first use.
// Errors: ErrInvalid (with fields), ErrForbidden.
func (s *Service) CreateQuestion(ctx context.Context, actor accounts.Principal, in QuestionInput) (Question, error) {
	if !isLecturer(actor) && !isAdmin(actor) {
		return Question{}, fmt.Errorf("assessment: create question: %w", errs.ErrForbidden)
	}
	q, err := buildQuestion(in)
	if err != nil {
		return Question{}, err
	}
	if _, err := s.bank(ctx, actor, q.Bank, true); err != nil {
		return Question{}, err
	}
	now := s.now()
	q.ID, q.Version, q.OwnerID, q.CreatedAt, q.UpdatedAt = ids.New(), 1, actor.User.ID, now, now
	if _, err := s.questions.InsertOne(ctx, q); err != nil {
		return Question{}, fmt.Errorf("assessment: create question: %w", dbErr(err))
	}
	return q, nil
}

// findQuestion loads a question and checks the caller may use its bank. Errors:
// ErrNotFound (also for questions in banks the caller may not see), ErrForbidden.
func (s *Service) findQuestion(ctx context.Context, actor accounts.Principal, id string) (Question, error) {
	if !isLecturer(actor) && !isAdmin(actor) {
		return Question{}, fmt.Errorf("assessment: questions: %w", errs.ErrForbidden)
	}
	var q Question
	if !ids.Valid(id) {
		return q, fmt.Errorf("assessment: question %q: %w", id, errs.ErrNotFound)
	}
	if err := s.questions.FindOne(ctx, bson.M{"_id": id}).Decode(&q); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return q, fmt.Errorf("assessment: question %s: %w", id, errs.ErrNotFound)
		}
		return q, fmt.Errorf("assessment: find question: %w", dbErr(err))
	}
	if _, err := s.bank(ctx, actor, q.Bank, false); err != nil {
		if errors.Is(err, errs.ErrForbidden) {
			return Question{}, fmt.Errorf("assessment: question %s: %w", id, errs.ErrNotFound)
		}
		return Question{}, err
	}
	return q, nil
}

// GetQuestion returns a question with its answer key to a lecturer who may use its bank.
// Errors: ErrNotFound, ErrForbidden.
func (s *Service) GetQuestion(ctx context.Context, actor accounts.Principal, id string) (Question, error) {
	return s.findQuestion(ctx, actor, id)
}

// UpdateQuestion edits a question by making a new version: the previous version is kept in
// question_versions, and attempts that were given it keep their own snapshot, so nothing
// a learner answered changes under them. Errors: ErrNotFound, ErrForbidden, ErrInvalid,
// ErrConflict when in.Version is not the current version or another edit won the race.
func (s *Service) UpdateQuestion(ctx context.Context, actor accounts.Principal, id string, in QuestionInput) (Question, error) {
	old, err := s.findQuestion(ctx, actor, id)
	if err != nil {
		return Question{}, err
	}
	if in.Bank == "" {
		in.Bank = old.Bank
	}
	if in.Version != 0 && in.Version != old.Version {
		return Question{}, fmt.Errorf("assessment: question %s is at version %d, not %d: %w", id, old.Version, in.Version, errs.ErrConflict)
	}
	q, err := buildQuestion(in)
	if err != nil {
		return Question{}, err
	}
	if q.Bank != old.Bank {
		if _, err := s.bank(ctx, actor, q.Bank, true); err != nil {
			return Question{}, err
		}
	}
	q.ID, q.Version, q.OwnerID, q.CreatedAt, q.UpdatedAt, q.Archived = old.ID, old.Version+1, old.OwnerID, old.CreatedAt, s.now(), old.Archived
	if err := s.ensureSnapshots(ctx, []Question{old}); err != nil {
		return Question{}, err
	}
	res, err := s.questions.ReplaceOne(ctx, bson.M{"_id": id, "version": old.Version}, q)
	if err != nil {
		return Question{}, fmt.Errorf("assessment: update question: %w", dbErr(err))
	}
	if res.MatchedCount == 0 {
		return Question{}, fmt.Errorf("assessment: question %s was edited meanwhile: %w", id, errs.ErrConflict)
	}
	s.invalidateQuizzes()
	return q, nil
}

// ArchiveQuestion removes a question from its bank's lists, exports and random draws.
// Attempts keep the version they were given, and quizzes that name it as a fixed item
// leave it out of attempts started afterwards. Archiving twice is harmless. Errors:
// ErrNotFound, ErrForbidden.
func (s *Service) ArchiveQuestion(ctx context.Context, actor accounts.Principal, id string) error {
	q, err := s.findQuestion(ctx, actor, id)
	if err != nil {
		return err
	}
	if _, err := s.questions.UpdateOne(ctx, bson.M{"_id": q.ID}, bson.M{"$set": bson.M{"archived": true, "updated_at": s.now()}}); err != nil {
		return fmt.Errorf("assessment: archive question: %w", dbErr(err))
	}
	s.invalidateQuizzes()
	return nil
}

// QuestionVersion returns an earlier version of a question as it was before an edit (or
// the current one). Errors: ErrNotFound, ErrForbidden.
func (s *Service) QuestionVersion(ctx context.Context, actor accounts.Principal, id string, version int) (Question, error) {
	cur, err := s.findQuestion(ctx, actor, id)
	if err != nil || cur.Version == version {
		return cur, err
	}
	var doc struct {
		Question Question `bson:"question"`
	}
	if err := s.versions.FindOne(ctx, bson.M{"_id": snapshotKey(id, version)}).Decode(&doc); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return Question{}, fmt.Errorf("assessment: question %s version %d: %w", id, version, errs.ErrNotFound)
		}
		return Question{}, fmt.Errorf("assessment: find question version: %w", dbErr(err))
	}
	return doc.Question, nil
}

func questionFilter(f QuestionFilter) bson.M {
	m := bson.M{"bank": f.Bank, "archived": bson.M{"$ne": true}}
	if c := CleanCategory(f.Category); c != "" {
		m["$or"] = bson.A{bson.M{"category": c}, bson.M{"category": bson.M{"$regex": "^" + regexp.QuoteMeta(c) + "/"}}}
	}
	if len(f.Tags) > 0 {
		m["tags"] = bson.M{"$all": f.Tags}
	}
	if f.Type != "" {
		m["type"] = f.Type
	}
	return m
}

// ListQuestions lists a bank's questions, optionally narrowed to a category subtree, tags
// and a type. Errors: ErrForbidden, ErrNotFound for an unknown bank, ErrInvalid.
func (s *Service) ListQuestions(ctx context.Context, actor accounts.Principal, f QuestionFilter) (accounts.Page[Question], error) {
	b, err := s.bank(ctx, actor, f.Bank, false)
	if err != nil {
		return accounts.Page[Question]{}, err
	}
	f.Bank = b.Name
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 500 || f.Offset < 0 {
		return accounts.Page[Question]{}, errs.Field("limit", "limit must be at most 500 and offset not negative")
	}
	filter := questionFilter(f)
	total, err := s.questions.CountDocuments(ctx, filter)
	if err != nil {
		return accounts.Page[Question]{}, fmt.Errorf("assessment: count questions: %w", dbErr(err))
	}
	cur, err := s.questions.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "category", Value: 1}, {Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}).
		SetSkip(int64(f.Offset)).SetLimit(int64(f.Limit)))
	if err != nil {
		return accounts.Page[Question]{}, fmt.Errorf("assessment: list questions: %w", dbErr(err))
	}
	items := []Question{}
	if err := cur.All(ctx, &items); err != nil {
		return accounts.Page[Question]{}, fmt.Errorf("assessment: list questions: %w", dbErr(err))
	}
	return accounts.Page[Question]{Items: items, Total: int(total)}, nil
}

// ImportRequest is a file of questions to add to a bank.
type ImportRequest struct {
	Bank   string
	Format importer.Format
	Data   []byte
	// KeepValid stores the questions that parsed even when others did not; by default a
	// file with any error stores nothing.
	KeepValid bool
	// Category, when set, is the category of questions the file puts in none.
	Category string
}

// ImportResult says what an import did. Errors name the line of each rejected question.
type ImportResult struct {
	Imported int `json:"imported"`
	// Duplicates counts questions already in the bank from an earlier import of the same
	// content (re-importing a file is harmless).
	Duplicates int                  `json:"duplicates"`
	Errors     []importer.LineError `json:"errors"`
}

// ImportQuestions parses a GIFT, Aiken or Moodle XML file and stores its questions in a
// bank. All or nothing unless KeepValid: a file with any bad question stores nothing and
// the result lists every error by line. Each question's id is derived from the bank and
// its content, so importing the same file twice stores it once. Errors (beyond the
// per-line ones in the result): ErrForbidden, ErrInvalid for an unknown format or bank
// name, ErrTooLarge for files over importer.MaxFileSize.
func (s *Service) ImportQuestions(ctx context.Context, actor accounts.Principal, req ImportRequest) (ImportResult, error) {
	res := ImportResult{Errors: []importer.LineError{}}
	if !req.Format.Valid() {
		return res, errs.Field("format", "must be gift, aiken or moodle_xml")
	}
	if len(req.Data) > importer.MaxFileSize {
		return res, fmt.Errorf("assessment: import file over %d bytes: %w", importer.MaxFileSize, errs.ErrTooLarge)
	}
	b, err := s.bank(ctx, actor, req.Bank, true)
	if err != nil {
		return res, err
	}
	parsed, lineErrs := importer.Parse(req.Format, req.Data)
	res.Errors = append(res.Errors, lineErrs...)
	if len(parsed) == 0 && len(lineErrs) == 0 {
		res.Errors = append(res.Errors, importer.Problem{Code: importer.CodeNoQuestions, Args: []string{string(req.Format)}}.At(1))
	}
	now := s.now()
	docs := make([]any, 0, len(parsed))
	for _, iq := range parsed {
		in := fromImporter(b.Name, iq)
		if in.Category == "" {
			in.Category = req.Category
		}
		q, err := buildQuestion(in)
		if err != nil {
			res.Errors = append(res.Errors, rejectedLine(iq.Line, err))
			continue
		}
		q.ID, q.Version, q.OwnerID, q.CreatedAt, q.UpdatedAt = contentID(q), 1, actor.User.ID, now, now
		docs = append(docs, q)
	}
	slices.SortStableFunc(res.Errors, func(a, b importer.LineError) int { return a.Line - b.Line })
	if len(docs) == 0 || (len(res.Errors) > 0 && !req.KeepValid) {
		return res, nil
	}
	_, err = s.questions.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	res.Imported = len(docs)
	if err != nil {
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) {
			return ImportResult{Errors: res.Errors}, fmt.Errorf("assessment: import questions: %w", dbErr(err))
		}
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 && !strings.Contains(we.Message, "duplicate key") {
				return ImportResult{Errors: res.Errors}, fmt.Errorf("assessment: import questions: %w", err)
			}
			res.Imported--
			res.Duplicates++
		}
	}
	s.invalidateQuizzes()
	return res, nil
}

// rejectedLine is the import error for a parsed question that buildQuestion refused:
// coded importer.CodeQuestionInvalid with the fields refused, and the whole reason in
// English as its message.
func rejectedLine(line int, err error) importer.LineError {
	var fe *errs.FieldError
	var fields []string
	if errors.As(err, &fe) {
		for f := range fe.Fields {
			fields = append(fields, f)
		}
		slices.Sort(fields)
	}
	if len(fields) == 0 {
		fields = []string{"question"}
	}
	return importer.LineError{Line: line, Code: importer.CodeQuestionInvalid, Args: []string{strings.Join(fields, ", ")}, Message: err.Error()}
}

// contentID derives a question id (ObjectID-shaped hex) from its bank and content.
func contentID(q Question) string {
	c := q
	c.ID, c.OwnerID, c.Version, c.CreatedAt, c.UpdatedAt = "", "", 0, time.Time{}, time.Time{}
	c.Choices, c.Pairs = slices.Clone(c.Choices), slices.Clone(c.Pairs)
	for i := range c.Choices {
		c.Choices[i].ID = ""
	}
	for i := range c.Pairs {
		c.Pairs[i].ID = ""
	}
	b, _ := json.Marshal(c) // a Question always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// ExportBank writes a bank's questions (optionally one category subtree) as GIFT or
// Moodle XML. Errors: ErrForbidden, ErrNotFound, ErrInvalid for a format that cannot hold
// a question (ordering in GIFT: use Moodle XML).
func (s *Service) ExportBank(ctx context.Context, actor accounts.Principal, bank string, format importer.Format, category string) ([]byte, error) {
	b, err := s.bank(ctx, actor, bank, false)
	if err != nil {
		return nil, err
	}
	if format != importer.GIFT && format != importer.MoodleXML {
		return nil, errs.Field("format", "must be gift or moodle_xml")
	}
	cur, err := s.questions.Find(ctx, questionFilter(QuestionFilter{Bank: b.Name, Category: category}),
		options.Find().SetSort(bson.D{{Key: "category", Value: 1}, {Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("assessment: export bank: %w", dbErr(err))
	}
	var qs []Question
	if err := cur.All(ctx, &qs); err != nil {
		return nil, fmt.Errorf("assessment: export bank: %w", dbErr(err))
	}
	out := make([]importer.Question, len(qs))
	for i, q := range qs {
		out[i] = toImporter(q)
	}
	var buf bytes.Buffer
	if format == importer.GIFT {
		err = importer.WriteGIFT(&buf, out)
	} else {
		err = importer.WriteMoodleXML(&buf, out)
	}
	if errors.Is(err, importer.ErrNoGIFTForm) {
		return nil, fmt.Errorf("assessment: %w: %w", errs.ErrInvalid, err)
	}
	if err != nil {
		return nil, fmt.Errorf("assessment: export bank: %w", err)
	}
	return buf.Bytes(), nil
}
