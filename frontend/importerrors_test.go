package frontend

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"hoctap/accounts"
)

// TestImportErrorsInThePageLanguage: a broken question file's line errors are shown from
// the catalogues, in Vietnamese or in English as the person chose, not in the importer's
// English.
func TestImportErrorsInThePageLanguage(t *testing.T) {
	w := newLearnWorld(t)
	bad := "::Q1:: Thủ đô của Việt Nam là {=Hà Nội ~Huế}\n\n::Q2:: Câu hỏi hỏng {=A ~B\n\n::Q3:: Trọng số {=A ~%abc%B}\n"
	rows := func() []string {
		t.Helper()
		status, body := w.postMultipart(t, "/teach/banks/import", map[string]string{"bank": "LLCT", "format": "gift"}, "cau-hoi.gift", bad)
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("importing a broken file: %d\n%s", status, visible(body))
		}
		var out []string
		for _, m := range regexp.MustCompile(`<tr><td>(\d+)</td><td>([^<]*)</td></tr>`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1]+": "+m[2])
		}
		return out
	}
	want := []string{"3: Khối đáp án { chưa được đóng bằng }.", "5: Trọng số “abc” không phải là tỉ lệ phần trăm từ -100 đến 100."}
	if got := rows(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Vietnamese page errors:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	en := "en"
	if _, err := w.acc.UpdateUser(context.Background(), w.adminP, w.adminP.User.ID, accounts.UserPatch{Language: &en}); err != nil {
		t.Fatal(err)
	}
	want = []string{"3: The answer block { is not closed with }.", "5: Weight “abc” is not a percentage between -100 and 100."}
	if got := rows(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("English page errors:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
