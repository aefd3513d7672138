package accounts

import (
	"bytes"
	"testing"

	"hoctap/internal/errs"
)

// FuzzParseUserCSV: any bytes give either rows with sane line numbers or an invalid or
// too-large error; never a panic or another kind of error. `make fuzz` runs it longer.
func FuzzParseUserCSV(f *testing.F) {
	for _, s := range []string{
		"username,full_name,unit_code,position,email\nnva,Nguyễn Văn A,HG,Chuyên viên,a@x.vn\n",
		"\ufefftên đăng nhập;họ và tên;mã đơn vị\nnva;Nguyễn Văn A;HG\r\n",
		"username\tfull_name\tunit_code\tpassword\troles\nnva\tA\tHG\tpassword-123\tlearner,trainer\n",
		"\xff\xfeu\x00s\x00e\x00r\x00",
		"username,full_name,unit_code\n\"nva,A,HG\n",
		"username,full_name,unit_code\nnva,A,HG,extra,cells\n",
		"", "\n\n", "a,b\n", "\xc3\x28", `"`, "username,full_name,unit_code\n" + `"a""b",c,d` + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseUserCSV(bytes.NewReader(data))
		if err != nil {
			if c := errs.Code(err); c != "invalid" && c != "too_large" {
				t.Fatalf("error %q of kind %s", err, c)
			}
			return
		}
		prev := 1
		for _, r := range file.Rows {
			if r.Line <= prev {
				t.Fatalf("row line %d after %d", r.Line, prev)
			}
			prev = r.Line
		}
		if len(file.Rows) > MaxImportRows {
			t.Fatalf("%d rows past the limit", len(file.Rows))
		}
	})
}
