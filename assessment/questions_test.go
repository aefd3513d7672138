package assessment

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"hoctap/accounts"
	"hoctap/assessment/importer"
	"hoctap/internal/errs"
)

func TestBanksOwnershipAndSharing(t *testing.T) {
	e := newEnv(t)
	q := e.singleQ(t, "Câu 1")
	banks, err := e.svc.ListBanks(e.ctx, e.lecturer)
	if err != nil || len(banks) != 1 || banks[0].Name != "LLCT" || banks[0].OwnerID != e.lecturer.User.ID {
		t.Fatalf("banks %+v %v", banks, err)
	}
	other := person(accounts.RoleLecturer)
	_, err = e.svc.CreateQuestion(e.ctx, other, QuestionInput{Bank: "LLCT", Type: TypeEssay, Text: "x"})
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.svc.GetQuestion(e.ctx, other, q.ID)
	wantErr(t, err, errs.ErrNotFound)
	_, err = e.svc.ShareBank(e.ctx, e.lecturer, "LLCT", []string{other.User.ID})
	wantErr(t, err, errs.ErrForbidden)
	if _, err := e.svc.ShareBank(e.ctx, e.admin, "LLCT", []string{other.User.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GetQuestion(e.ctx, other, q.ID); err != nil {
		t.Fatalf("shared lecturer: %v", err)
	}
	if banks, _ := e.svc.ListBanks(e.ctx, other); len(banks) != 1 {
		t.Errorf("shared lecturer sees %d banks", len(banks))
	}
	_, err = e.svc.CreateQuestion(e.ctx, person(accounts.RoleLearner), QuestionInput{Bank: "Mine", Type: TypeEssay, Text: "x"})
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.svc.ListBanks(e.ctx, e.trainer)
	wantErr(t, err, errs.ErrForbidden)
}

func TestQuestionValidationStoresNothing(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.CreateQuestion(e.ctx, e.lecturer, QuestionInput{Bank: "LLCT", Type: TypeSingle, Text: "Q", Choices: []ChoiceInput{{Text: "a"}, {Text: "b"}}})
	wantErr(t, err, errs.ErrInvalid)
	_, err = e.svc.CreateQuestion(e.ctx, e.lecturer, QuestionInput{Bank: "", Type: TypeEssay, Text: "Q"})
	wantErr(t, err, errs.ErrInvalid)
	if n, _ := e.svc.questions.CountDocuments(e.ctx, map[string]any{}); n != 0 {
		t.Errorf("%d questions stored after bad input", n)
	}
	if n, _ := e.svc.banks.CountDocuments(e.ctx, map[string]any{}); n != 0 {
		t.Errorf("%d banks created by bad input", n)
	}
}

func TestQuestionEditsMakeVersions(t *testing.T) {
	e := newEnv(t)
	q := e.question(t, QuestionInput{Type: TypeShortAnswer, Category: " LLCT / Chương 1 ", Text: "Thủ đô?", Answers: []AcceptedAnswer{{Text: "Hà Nội", Fraction: 1}}, Tags: []string{"dễ", "dễ", " địa lý "}})
	if q.Version != 1 || q.Category != "LLCT/Chương 1" || !reflect.DeepEqual(q.Tags, []string{"dễ", "địa lý"}) {
		t.Fatalf("created %+v", q)
	}
	in := QuestionInput{Type: TypeShortAnswer, Category: q.Category, Text: "Thủ đô của Việt Nam?", Answers: []AcceptedAnswer{{Text: "Hà Nội", Fraction: 1}, {Text: "Thăng Long", Fraction: 0.5}}, Version: 1}
	q2, err := e.svc.UpdateQuestion(e.ctx, e.lecturer, q.ID, in)
	if err != nil || q2.Version != 2 || q2.Bank != "LLCT" || q2.ID != q.ID || len(q2.Answers) != 2 {
		t.Fatalf("update: %+v %v", q2, err)
	}
	_, err = e.svc.UpdateQuestion(e.ctx, e.lecturer, q.ID, in) // still says version 1
	wantErr(t, err, errs.ErrConflict)
	old, err := e.svc.QuestionVersion(e.ctx, e.lecturer, q.ID, 1)
	if err != nil || old.Text != "Thủ đô?" || old.Version != 1 {
		t.Fatalf("version 1: %+v %v", old, err)
	}
	_, err = e.svc.QuestionVersion(e.ctx, e.lecturer, q.ID, 7)
	wantErr(t, err, errs.ErrNotFound)
	page, err := e.svc.ListQuestions(e.ctx, e.lecturer, QuestionFilter{Bank: "LLCT", Category: "LLCT"})
	if err != nil || page.Total != 1 || page.Items[0].Version != 2 {
		t.Fatalf("list %+v %v", page, err)
	}
	if page, _ := e.svc.ListQuestions(e.ctx, e.lecturer, QuestionFilter{Bank: "LLCT", Category: "LLC"}); page.Total != 0 {
		t.Errorf("category prefix matched a sibling")
	}
	if page, _ := e.svc.ListQuestions(e.ctx, e.lecturer, QuestionFilter{Bank: "LLCT", Tags: []string{"dễ"}}); page.Total != 0 {
		t.Errorf("tags filter: the edit dropped the tags, want 0 got %d", page.Total)
	}
}

func TestImportAllOrNothingAndRoundTrip(t *testing.T) {
	e := newEnv(t)
	broken, _ := os.ReadFile("importer/testdata/broken.gift")
	res, err := e.svc.ImportQuestions(e.ctx, e.lecturer, ImportRequest{Bank: "Kho", Format: importer.GIFT, Data: broken})
	if err != nil || res.Imported != 0 || len(res.Errors) != 3 || res.Errors[0].Line != 4 {
		t.Fatalf("broken file: %+v %v", res, err)
	}
	if n, _ := e.svc.questions.CountDocuments(e.ctx, map[string]any{}); n != 0 {
		t.Fatalf("broken file stored %d questions", n)
	}
	res, err = e.svc.ImportQuestions(e.ctx, e.lecturer, ImportRequest{Bank: "Kho", Format: importer.GIFT, Data: broken, KeepValid: true})
	if err != nil || res.Imported != 2 || len(res.Errors) != 3 {
		t.Fatalf("keep_valid: %+v %v", res, err)
	}
	_, err = e.svc.ImportQuestions(e.ctx, e.lecturer, ImportRequest{Bank: "Kho", Format: "csv", Data: broken})
	wantErr(t, err, errs.ErrInvalid)
	empty, err := e.svc.ImportQuestions(e.ctx, e.lecturer, ImportRequest{Bank: "Kho", Format: importer.Aiken, Data: []byte("\n\n")})
	if err != nil || empty.Imported != 0 || len(empty.Errors) != 1 || !strings.Contains(empty.Errors[0].Message, "no aiken questions") {
		t.Fatalf("empty file: %+v %v", empty, err)
	}

	for _, c := range []struct {
		file   string
		format importer.Format
		n      int
	}{{"llct.gift", importer.GIFT, 13}, {"qtdt.txt", importer.Aiken, 3}, {"moodle.xml", importer.MoodleXML, 9}} {
		data, _ := os.ReadFile("importer/testdata/" + c.file)
		res, err := e.svc.ImportQuestions(e.ctx, e.lecturer, ImportRequest{Bank: "Ngân hàng " + c.file, Format: c.format, Data: data, Category: "Nhập"})
		if err != nil || res.Imported != c.n || len(res.Errors) != 0 {
			t.Fatalf("%s: %+v %v", c.file, res, err)
		}
		again, err := e.svc.ImportQuestions(e.ctx, e.lecturer, ImportRequest{Bank: "Ngân hàng " + c.file, Format: c.format, Data: data, Category: "Nhập"})
		if err != nil || again.Imported != 0 || again.Duplicates != c.n {
			t.Fatalf("%s re-import: %+v %v", c.file, again, err)
		}
		for _, format := range []importer.Format{importer.GIFT, importer.MoodleXML} {
			out, err := e.svc.ExportBank(e.ctx, e.lecturer, "Ngân hàng "+c.file, format, "")
			if format == importer.GIFT && c.format == importer.MoodleXML {
				wantErr(t, err, errs.ErrInvalid) // the ordering question has no GIFT form
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			copyBank := "Bản sao " + string(format) + " " + c.file
			res, err := e.svc.ImportQuestions(e.ctx, e.lecturer, ImportRequest{Bank: copyBank, Format: format, Data: out})
			if err != nil || res.Imported != c.n {
				t.Fatalf("%s via %s: %+v %v\n%s", c.file, format, res, err, out)
			}
			a, _ := e.svc.ListQuestions(e.ctx, e.lecturer, QuestionFilter{Bank: "Ngân hàng " + c.file, Limit: 100})
			b, _ := e.svc.ListQuestions(e.ctx, e.lecturer, QuestionFilter{Bank: copyBank, Limit: 100})
			sameQuestions(t, c.file+" via "+string(format), a.Items, b.Items)
		}
	}
}

// sameQuestions compares banks question by question, ignoring ids, banks and times.
func sameQuestions(t *testing.T, what string, a, b []Question) {
	t.Helper()
	key := func(qs []Question) map[string]importer.Question {
		m := map[string]importer.Question{}
		for _, q := range qs {
			iq := toImporter(q)
			m[iq.Category+"|"+iq.Name+"|"+iq.Text] = iq
		}
		return m
	}
	ka, kb := key(a), key(b)
	if len(ka) != len(a) || len(ka) != len(kb) {
		t.Fatalf("%s: %d vs %d questions", what, len(ka), len(kb))
	}
	for k, qa := range ka {
		if qb, ok := kb[k]; !ok || !reflect.DeepEqual(qa, qb) {
			t.Errorf("%s: %q differs:\n%+v\n%+v", what, k, qa, qb)
		}
	}
}

func TestExportNeedsAccess(t *testing.T) {
	e := newEnv(t)
	e.singleQ(t, "Q")
	_, err := e.svc.ExportBank(e.ctx, person(accounts.RoleLecturer), "LLCT", importer.GIFT, "")
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.svc.ExportBank(e.ctx, e.lecturer, "Không có", importer.GIFT, "")
	wantErr(t, err, errs.ErrNotFound)
	out, err := e.svc.ExportBank(e.ctx, e.admin, "LLCT", importer.MoodleXML, "")
	if err != nil || !strings.Contains(string(out), "<quiz>") {
		t.Fatalf("admin export: %v", err)
	}
}

func TestArchivedQuestionsLeaveListsDrawsAndQuizzes(t *testing.T) {
	e := newEnv(t)
	keep := e.singleQ(t, "Giữ", "t")
	gone := e.singleQ(t, "Bỏ", "t")
	fixed := e.quiz(t, QuizInput{Items: []Item{{QuestionID: keep.ID}, {QuestionID: gone.ID}}})
	wantErr(t, e.svc.ArchiveQuestion(e.ctx, person(accounts.RoleLecturer), gone.ID), errs.ErrNotFound)
	if err := e.svc.ArchiveQuestion(e.ctx, e.lecturer, gone.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ArchiveQuestion(e.ctx, e.lecturer, gone.ID); err != nil {
		t.Fatalf("archiving twice: %v", err)
	}
	page, _ := e.svc.ListQuestions(e.ctx, e.lecturer, QuestionFilter{Bank: "LLCT"})
	if page.Total != 1 || page.Items[0].ID != keep.ID {
		t.Fatalf("list after archiving: %+v", page.Items)
	}
	_, err := e.svc.CreateQuiz(e.ctx, e.lecturer, QuizInput{CourseID: e.course, Title: "x", Items: []Item{{Random: &RandomDraw{Bank: "LLCT", Tags: []string{"t"}, Count: 2}}}})
	wantErr(t, err, errs.ErrInvalid)
	_, err = e.svc.CreateQuiz(e.ctx, e.lecturer, QuizInput{CourseID: e.course, Title: "x", Items: []Item{{QuestionID: gone.ID}}})
	wantErr(t, err, errs.ErrInvalid)
	a, err := e.svc.StartAttempt(e.ctx, e.learner(), fixed.ID)
	if err != nil || len(a.Questions) != 1 || a.Questions[0].ID != keep.ID {
		t.Fatalf("attempt after archiving: %+v %v", a.Questions, err)
	}
	if q, err := e.svc.GetQuestion(e.ctx, e.lecturer, gone.ID); err != nil || !q.Archived {
		t.Errorf("archived question: %+v %v", q, err)
	}
	if err := e.svc.ArchiveQuestion(e.ctx, e.lecturer, keep.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.StartAttempt(e.ctx, e.learner(), fixed.ID)
	wantErr(t, err, errs.ErrConflict)
}
