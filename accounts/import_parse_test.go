package accounts

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"

	"hoctap/internal/errs"
)

func TestParseUserCSV(t *testing.T) {
	type row struct {
		line                      int
		username, fullName, unit  string
		position, email, password string
		roles, problem            string
	}
	tests := []struct {
		name    string
		in      string
		columns []string
		rows    []row
	}{
		{
			name:    "comma, LF",
			in:      "username,full_name,unit_code,position,email\nnva,Nguyễn Văn A,HN,Chuyên viên,a@x.vn\n",
			columns: []string{ColUsername, ColFullName, ColUnitCode, ColPosition, ColEmail},
			rows:    []row{{line: 2, username: "nva", fullName: "Nguyễn Văn A", unit: "HN", position: "Chuyên viên", email: "a@x.vn"}},
		},
		{
			name:    "BOM, semicolons, CRLF, quoted separator",
			in:      "\uFEFFusername;full_name;unit_code;roles\r\nnva;\"Nguyễn; Văn A\";HN;lecturer|trainer\r\nttb;Trần Thị B;HN;\r\n",
			columns: []string{ColUsername, ColFullName, ColUnitCode, ColRoles},
			rows: []row{
				{line: 2, username: "nva", fullName: "Nguyễn; Văn A", unit: "HN", roles: "lecturer|trainer"},
				{line: 3, username: "ttb", fullName: "Trần Thị B", unit: "HN"},
			},
		},
		{
			name:    "Vietnamese headers, column order, unknown columns, blank lines",
			in:      "STT,Mã đơn vị,Họ và tên,Tên đăng nhập,Mật khẩu\n1,HN,Lê Văn C,lvc,bimat1234\n\n,,,,\n2,HCM,\"Phạm\nThị D\",ptd,\n",
			columns: []string{ColUnitCode, ColFullName, ColUsername, ColPassword},
			rows: []row{
				{line: 2, username: "lvc", fullName: "Lê Văn C", unit: "HN", password: "bimat1234"},
				{line: 5, username: "ptd", fullName: "Phạm\nThị D", unit: "HCM"},
			},
		},
		{
			name:    "short and long lines",
			in:      "username,full_name,unit_code\nabc,Tên\nxyz,Tên,HN,extra\nqqq,Tên,HN,,\n",
			columns: []string{ColUsername, ColFullName, ColUnitCode},
			rows: []row{
				{line: 2, username: "abc", fullName: "Tên"},
				{line: 3, username: "xyz", fullName: "Tên", unit: "HN", problem: "the line has 4 cells but the header only 3 columns"},
				{line: 4, username: "qqq", fullName: "Tên", unit: "HN"},
			},
		},
		{
			name:    "tab separated",
			in:      "username\tfull_name\tunit_code\nabc\tTên, có phẩy\tHN\n",
			columns: []string{ColUsername, ColFullName, ColUnitCode},
			rows:    []row{{line: 2, username: "abc", fullName: "Tên, có phẩy", unit: "HN"}},
		},
		{
			name:    "header only",
			in:      "username,full_name,unit_code\r\n",
			columns: []string{ColUsername, ColFullName, ColUnitCode},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseUserCSV(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("ParseUserCSV: %v", err)
			}
			if fmt.Sprint(f.Columns) != fmt.Sprint(tt.columns) {
				t.Errorf("columns = %v, want %v", f.Columns, tt.columns)
			}
			var got []row
			for _, r := range f.Rows {
				got = append(got, row{r.Line, r.Username, r.FullName, r.UnitCode, r.Position, r.Email, r.Password, r.Roles, r.Problem})
			}
			if !slices.Equal(got, tt.rows) {
				t.Errorf("rows =\n%+v\nwant\n%+v", got, tt.rows)
			}
		})
	}
}

func TestParseUserCSVUTF16(t *testing.T) {
	text := "username\tfull_name\tunit_code\r\nnva\tNguyễn Văn A\tHN\r\n"
	enc, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseUserCSV(strings.NewReader(string(enc)))
	if err != nil {
		t.Fatalf("ParseUserCSV: %v", err)
	}
	if len(f.Rows) != 1 || f.Rows[0].FullName != "Nguyễn Văn A" || f.Rows[0].Line != 2 {
		t.Fatalf("rows = %+v", f.Rows)
	}
}

func TestParseUserCSVFatal(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
		line     string // the message must name this line
	}{
		{"empty", "", errs.ErrInvalid, ""},
		{"only BOM and space", "\uFEFF \r\n", errs.ErrInvalid, ""},
		{"broken quote", "username,full_name,unit_code\nabc,\"Tên,HN\nxyz,Tên,HN\n", errs.ErrInvalid, "line 2"},
		{"bare quote", "username,full_name,unit_code\nabc,Tên,HN\nx\"yz,Tên,HN\n", errs.ErrInvalid, "line 3"},
		{"missing columns", "username,name\nabc,Tên\n", errs.ErrInvalid, "unit_code"},
		{"duplicate column", "username,full_name,unit_code,ho_ten\n", errs.ErrInvalid, "full_name"},
		{"not UTF-8", "username,full_name,unit_code\nabc,Nguy\xe9n,HN\n", errs.ErrInvalid, "line 2"},
		{"too many rows", "username,full_name,unit_code\n" + strings.Repeat("abc,Tên,HN\n", MaxImportRows+1), errs.ErrTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseUserCSV(strings.NewReader(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.line) {
				t.Errorf("err = %v, want it to name %q", err, tt.line)
			}
		})
	}
}

func TestDetectComma(t *testing.T) {
	for in, want := range map[string]rune{
		"a,b,c\n1;2;3;4;5":       ',',
		"a;b;c\r\n":              ';',
		"\"a;b\",c,d\n":          ',',
		"a\tb\tc":                '\t',
		"single":                 ',',
		"\"x,y,z\";b;c\n1,2,3,4": ';',
	} {
		if got := detectComma([]byte(in)); got != want {
			t.Errorf("detectComma(%q) = %q, want %q", in, got, want)
		}
	}
}
