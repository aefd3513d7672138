package server

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// TestImportErrorsCarryCodes: the import answer keeps {line, message} and adds each
// error's code and args, for clients that word it themselves.
func TestImportErrorsCarryCodes(t *testing.T) {
	f := newAssessmentFixture(t)
	body, ctype := multipartBody(t, map[string]string{"format": "aiken", "bank": "Hỏng"}, []byte("Câu hỏi\nA. Một\nB. Hai\nANSWER: E\n"))
	resp := f.ts.do(t, "POST", "/api/v1/questions/import", f.lecturer, body, "Content-Type", ctype)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("import: %d %s", resp.StatusCode, raw)
	}
	var res struct {
		Imported int              `json:"imported"`
		Errors   []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	if res.Imported != 0 || len(res.Errors) != 1 {
		t.Fatalf("result %s", raw)
	}
	e := res.Errors[0]
	args, _ := e["args"].([]any)
	if e["line"] != float64(1) || e["code"] != "aiken_answer_unknown" || len(args) != 1 || args[0] != "E" || e["message"] != `ANSWER "E" is not one of the choices` {
		t.Errorf("error %s", raw)
	}
}
