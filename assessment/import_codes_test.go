package assessment

import (
	"strings"
	"testing"

	"hoctap/assessment/importer"
)

// TestImportErrorsAreCoded: the errors an import reports carry the importer's codes and
// args, also the two the service adds (an empty file, a question the bank refuses), with
// the English message kept for API clients.
func TestImportErrorsAreCoded(t *testing.T) {
	e := newEnv(t)
	empty, err := e.svc.ImportQuestions(e.ctx, e.lecturer, ImportRequest{Bank: "Kho", Format: importer.Aiken, Data: []byte("\n\n")})
	if err != nil || len(empty.Errors) != 1 {
		t.Fatalf("empty file: %+v %v", empty, err)
	}
	if got := empty.Errors[0]; got.Code != importer.CodeNoQuestions || len(got.Args) != 1 || got.Args[0] != "aiken" || got.Message != "the file holds no aiken questions" {
		t.Errorf("empty file error %+v", got)
	}

	long := strings.Repeat("dài ", 600) // a choice over the bank's 2,000 characters
	gift := "Câu tốt {=Đúng ~Sai}\n\nCâu hỏng {=" + long + " ~Sai}\n\n::T\nCâu {T}\n"
	res, err := e.svc.ImportQuestions(e.ctx, e.lecturer, ImportRequest{Bank: "Kho", Format: importer.GIFT, Data: []byte(gift)})
	if err != nil || res.Imported != 0 || len(res.Errors) != 2 {
		t.Fatalf("import: %+v %v", res, err)
	}
	refused, title := res.Errors[0], res.Errors[1]
	if refused.Line != 3 || refused.Code != importer.CodeQuestionInvalid || len(refused.Args) != 1 || refused.Args[0] != "choices[0].text" ||
		!strings.Contains(refused.Message, "longer than 2000 characters") {
		t.Errorf("refused question error %+v", refused)
	}
	if title.Line != 5 || title.Code != importer.CodeGIFTTitleUnclosed || title.Args != nil || title.Message != "the title has no closing ::" {
		t.Errorf("parse error %+v", title)
	}
	for _, le := range append(res.Errors, empty.Errors...) {
		if n := importer.ArgCount(le.Code); n != len(le.Args) {
			t.Errorf("%s carries %d args, wants %d", le.Code, len(le.Args), n)
		}
	}
}
