package importer

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func byName(qs []Question) map[string]Question {
	m := map[string]Question{}
	for _, q := range qs {
		m[q.Name] = q
	}
	return m
}

func TestParseGIFTRealWorldFile(t *testing.T) {
	qs, errs := ParseGIFT(readFile(t, "llct.gift")) // BOM, CRLF, Vietnamese, every type
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if len(qs) != 13 {
		t.Fatalf("got %d questions, want 13", len(qs))
	}
	m := byName(qs)
	want := map[string]Type{"Câu 1": Single, "Câu 2": Multiple, "Câu 3": TrueFalse, "Câu 4": ShortAnswer, "Câu 5": Matching,
		"Câu 6": Numerical, "Câu 7": Numerical, "Câu 8": Numerical, "Câu 9": Essay, "Giới thiệu": Description,
		"Câu 10": ShortAnswer, "Câu 11: ký tự đặc biệt": TrueFalse, "Câu 12": Numerical}
	for name, typ := range want {
		if m[name].Type != typ {
			t.Errorf("%s: type %q, want %q", name, m[name].Type, typ)
		}
		if m[name].Category != "LLCT/Chương 1" {
			t.Errorf("%s: category %q", name, m[name].Category)
		}
	}
	c1 := m["Câu 1"]
	if c1.Line != 6 || !reflect.DeepEqual(c1.Tags, []string{"llct", "chuong-1"}) || c1.Feedback != "Xem giáo trình chương 1." {
		t.Errorf("Câu 1: line %d tags %v feedback %q", c1.Line, c1.Tags, c1.Feedback)
	}
	if c1.Choices[0].Fraction != 1 || c1.Choices[3].Fraction != -0.5 || c1.Choices[1].Feedback != "Sai" {
		t.Errorf("Câu 1 choices: %+v", c1.Choices)
	}
	if len(m["Câu 2"].Tags) != 0 {
		t.Errorf("tags leaked to the next question: %v", m["Câu 2"].Tags)
	}
	if c := m["Câu 2"].Choices; c[0].Fraction != 0.5 || c[2].Fraction != -1 {
		t.Errorf("Câu 2 weights: %+v", c)
	}
	if q := m["Câu 3"]; !q.Correct || q.TrueFeedback != "Chính xác" || q.FalseFeedback != "Sai rồi" {
		t.Errorf("Câu 3: %+v", q)
	}
	if q := m["Câu 4"]; q.Format != "html" || len(q.Answers) != 3 || q.Answers[2].Fraction != 0.5 {
		t.Errorf("Câu 4: %+v", q)
	}
	if q := m["Câu 5"]; len(q.Pairs) != 3 || q.Pairs[2] != (Pair{"Luật Cán bộ, công chức", "2008"}) {
		t.Errorf("Câu 5: %+v", q.Pairs)
	}
	if n := m["Câu 7"].Numeric[0]; n.Value != 99.6 || n.Tolerance != 0.1 {
		t.Errorf("Câu 7: %+v", n)
	}
	if n := m["Câu 8"].Numeric[0]; n.Value != 1945 || n.Tolerance != 5 {
		t.Errorf("Câu 8 min..max: %+v", n)
	}
	if q := m["Câu 10"]; q.Text != "Hiến pháp năm _____ là Hiến pháp hiện hành." {
		t.Errorf("missing word text %q", q.Text)
	}
	if q := m["Câu 11: ký tự đặc biệt"]; q.Text != "Công thức a = b ~ c # d { e } đúng không?" || q.Correct {
		t.Errorf("escapes: %+v", q)
	}
	if n := m["Câu 12"].Numeric; len(n) != 2 || n[1].Fraction != 0.5 || n[0].Feedback != "Chính xác" {
		t.Errorf("Câu 12: %+v", n)
	}
}

func TestParseGIFTErrorsNameTheirLine(t *testing.T) {
	qs, errs := ParseGIFT(readFile(t, "broken.gift"))
	if len(qs) != 2 {
		t.Errorf("good questions: %d, want 2", len(qs))
	}
	want := []LineError{
		{Line: 4, Code: CodeGIFTBlockUnclosed, Message: "the answer block { is not closed with }"},
		{Line: 6, Code: CodeGIFTWeight, Args: []string{"abc"}, Message: `weight "abc" is not a percentage between -100 and 100`},
		{Line: 10, Code: CodeGIFTAnswerUnknown, Args: []string{"maybe"}, Message: `answer "maybe" is not T, F, TRUE, FALSE, a number (#…) or answers starting with = or ~`},
	}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("errors:\n got %v\nwant %v", errs, want)
	}
}

func TestGIFTCases(t *testing.T) {
	cases := []struct {
		name, in string
		check    func(Question) bool
		errLine  int
		errPart  string
	}{
		{name: "true", in: "Q{T}", check: func(q Question) bool { return q.Type == TrueFalse && q.Correct }},
		{name: "TRUE lower", in: "Q{true}", check: func(q Question) bool { return q.Type == TrueFalse && q.Correct }},
		{name: "F", in: "Q{F}", check: func(q Question) bool { return q.Type == TrueFalse && !q.Correct }},
		{name: "essay", in: "Viết bài{}", check: func(q Question) bool { return q.Type == Essay }},
		{name: "essay with feedback", in: "Viết bài{####Gợi ý}", check: func(q Question) bool { return q.Type == Essay && q.Feedback == "Gợi ý" }},
		{name: "description", in: "Chỉ là mô tả", check: func(q Question) bool { return q.Type == Description }},
		{name: "negative weight", in: "Q{~%100%a ~%-33.33333%b}", check: func(q Question) bool { return q.Type == Multiple && q.Choices[1].Fraction == -0.3333333 }},
		{name: "multiline answers", in: "Q{\n=a\n~b\n}", check: func(q Question) bool { return q.Type == Single && len(q.Choices) == 2 }},
		{name: "blank line inside braces", in: "Q{\n=a\n\n~b\n}", check: func(q Question) bool { return len(q.Choices) == 2 }},
		{name: "numeric negative", in: "Q{#-5:0.5}", check: func(q Question) bool { return q.Numeric[0].Value == -5 }},
		{name: "newline escape", in: `Dòng 1\nDòng 2{T}`, check: func(q Question) bool { return q.Text == "Dòng 1\nDòng 2" }},
		{name: "backslash", in: `a\\b{T}`, check: func(q Question) bool { return q.Text == `a\b` }},
		{name: "markdown", in: "::t::[markdown]**x**{T}", check: func(q Question) bool { return q.Format == "markdown" && q.Text == "**x**" }},
		{name: "points marker", in: "// [points:2.5]\nQ{T}", check: func(q Question) bool { return q.Points == 2.5 }},
		{name: "matching distractor", in: "Q{=a -> 1 =b -> 2 = -> 3}", check: func(q Question) bool { return len(q.Pairs) == 3 && q.Pairs[2].Left == "" }},
		{name: "category without top", in: "$CATEGORY: A/B\n\nQ{T}", check: func(q Question) bool { return q.Category == "A/B" }},
		{name: "category in same block", in: "$CATEGORY: $course$/top/X\nQ{T}", check: func(q Question) bool { return q.Category == "X" && q.Line == 2 }},
		{name: "unclosed title", in: "::abc Q{T}", errLine: 1, errPart: "no closing ::"},
		{name: "stray close", in: "Q}", errLine: 1, errPart: "} without"},
		{name: "two blocks", in: "Q{T} and {F}", errLine: 1, errPart: "only one answer block"},
		{name: "bad numeric", in: "\n\nQ{#abc}", errLine: 3, errPart: "not a number"},
		{name: "numeric min>max", in: "Q{#5..1}", errLine: 1, errPart: "not a number"},
		{name: "weight too big", in: "Q{~%150%a ~b}", errLine: 1, errPart: "between -100 and 100"},
		{name: "single without full", in: "Q{=%50%a ~b}", errLine: 1, errPart: "fully correct"},
		{name: "multiple without positive", in: "Q{~a ~b}", errLine: 1, errPart: "positive weight"},
		{name: "one choice", in: "Q{=a ~}", errLine: 1, errPart: "empty"},
		{name: "empty text", in: "{T}", errLine: 1, errPart: "text is empty"},
		{name: "text before answers", in: "Q{xx =a ~b}", errLine: 1, errPart: "before the first"},
		{name: "error line inside block", in: "// c\n::t::Q{\n=a\n~%x%b\n}", errLine: 4, errPart: "weight"},
		{name: "matching one pair", in: "Q{=a -> 1}", errLine: 1, errPart: "two pairs"},
		{name: "bad points", in: "// [points:abc]\nQ{T}", errLine: 2, errPart: "points"},
		{name: "not utf8", in: "ok{T}\n\n\xff{T}", errLine: 3, errPart: "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			qs, errs := ParseGIFT([]byte(c.in))
			if c.errPart != "" {
				if len(errs) != 1 || errs[0].Line != c.errLine || !strings.Contains(errs[0].Message, c.errPart) {
					t.Fatalf("errors %v, want one on line %d containing %q", errs, c.errLine, c.errPart)
				}
				return
			}
			if len(errs) != 0 || len(qs) != 1 {
				t.Fatalf("got %d questions, errors %v", len(qs), errs)
			}
			if !c.check(qs[0]) {
				t.Errorf("unexpected question %+v", qs[0])
			}
		})
	}
}

func TestLineEndingsAndBOM(t *testing.T) {
	lf := strings.ReplaceAll(strings.TrimPrefix(string(readFile(t, "llct.gift")), "\ufeff"), "\r\n", "\n")
	base, errs := ParseGIFT([]byte(lf))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	for name, in := range map[string]string{
		"crlf":     strings.ReplaceAll(lf, "\n", "\r\n"),
		"cr":       strings.ReplaceAll(lf, "\n", "\r"),
		"bom+crlf": "\ufeff" + strings.ReplaceAll(lf, "\n", "\r\n"),
	} {
		got, errs := ParseGIFT([]byte(in))
		if len(errs) != 0 || !reflect.DeepEqual(got, base) {
			t.Errorf("%s: differs from LF (errors %v)", name, errs)
		}
	}
	a := strings.ReplaceAll(string(readFile(t, "qtdt.txt")), "\r\n", "\n")
	base, _ = ParseAiken([]byte(a))
	got, _ := ParseAiken([]byte("\ufeff" + strings.ReplaceAll(a, "\n", "\r\n")))
	if len(base) != 3 || !reflect.DeepEqual(got, base) {
		t.Errorf("aiken with BOM and CRLF differs")
	}
}

func TestParseAiken(t *testing.T) {
	qs, errs := ParseAiken(readFile(t, "qtdt.txt"))
	if len(errs) != 0 || len(qs) != 3 {
		t.Fatalf("%d questions, errors %v", len(qs), errs)
	}
	if qs[0].Line != 1 || qs[0].Type != Single || qs[0].Choices[0].Fraction != 1 || qs[0].Choices[2].Text != "Đơn vị sự nghiệp ngoài công lập" {
		t.Errorf("first: %+v", qs[0])
	}
	if qs[1].Line != 8 || qs[1].Choices[1].Fraction != 1 {
		t.Errorf("second: %+v", qs[1])
	}
	if q := qs[2]; q.Line != 13 || q.Type != Multiple || q.Choices[0].Fraction != 0.5 || q.Choices[2].Fraction != -1 || !strings.Contains(q.Text, "\n(chọn") {
		t.Errorf("third: %+v", q)
	}
	qs, errs = ParseAiken(readFile(t, "broken.txt"))
	want := []LineError{
		{Line: 1, Code: CodeAikenNoAnswerBefore, Args: []string{"5"}, Message: "question has no ANSWER line (line 5 starts another question)"},
		{Line: 5, Code: CodeAikenAnswerUnknown, Args: []string{"E"}, Message: `ANSWER "E" is not one of the choices`},
		{Line: 15, Code: CodeAikenNoAnswerAtEnd, Message: "question has no ANSWER line before the end of the file"},
	}
	if len(qs) != 1 || qs[0].Line != 10 || !reflect.DeepEqual(errs, want) {
		t.Errorf("broken: %d questions, errors\n got %v\nwant %v", len(qs), errs, want)
	}
	for in, part := range map[string]string{
		"ANSWER: A":                    "without a question",
		"Q\nA. x\nANSWER: A":           "two choices",
		"Q\nA. x\nC. y\nANSWER: A":     "should be B",
		"Q\nA. x\nB. y\nANSWER: A, A":  "twice",
		"Q\nA. x\nB. y\nANSWER: ":      "names no choice",
		"Q\nA. x\nB. y\nANSWER: AB":    "not one of",
		"Q\nA. x\nB. y\nANSWER: A, B":  "",
		"Q\nA. x\nB. y\nANSWER: b":     "",
		"Q\nA.x\nB. y\nANSWER: B":      "should be A",
		"Q\nA. x\nB. y\nANSWER: A\n\n": "",
	} {
		_, errs := ParseAiken([]byte(in))
		if part == "" && len(errs) != 0 || part != "" && (len(errs) == 0 || !strings.Contains(errs[0].Message, part)) {
			t.Errorf("%q: errors %v, want %q", in, errs, part)
		}
	}
}

func TestParseMoodleXML(t *testing.T) {
	qs, errs := ParseMoodleXML(readFile(t, "moodle.xml"))
	if len(errs) != 0 || len(qs) != 9 {
		t.Fatalf("%d questions, errors %v", len(qs), errs)
	}
	m := byName(qs)
	q := m["CPĐT-01"]
	if q.Line != 15 || q.Type != Single || q.Points != 2 || q.Format != "html" || q.Category != "Kỹ năng số/Chính phủ điện tử" ||
		!reflect.DeepEqual(q.Tags, []string{"cpdt", "kỹ năng số"}) || q.Choices[0].Feedback != "Đúng" || q.Choices[1].Feedback != "" {
		t.Errorf("CPĐT-01: %+v", q)
	}
	if q := m["CPĐT-02"]; q.Type != Multiple || q.Choices[2].Fraction != -1 {
		t.Errorf("CPĐT-02: %+v", q)
	}
	if q := m["CPĐT-03"]; q.Type != TrueFalse || !q.Correct || q.FalseFeedback != "Xem lại Luật." {
		t.Errorf("CPĐT-03: %+v", q)
	}
	if q := m["CPĐT-04"]; q.Type != ShortAnswer || q.CaseSensitive || q.Answers[1].Fraction != 0.5 {
		t.Errorf("CPĐT-04: %+v", q)
	}
	if q := m["CPĐT-06"]; q.Type != Matching || len(q.Pairs) != 3 || q.Pairs[2].Left != "" {
		t.Errorf("CPĐT-06: %+v", q)
	}
	if q := m["CPĐT-07"]; q.Type != Essay || q.Points != 5 {
		t.Errorf("CPĐT-07: %+v", q)
	}
	if q := m["CPĐT-08"]; q.Type != Ordering || q.Choices[2].Text != "Nộp hồ sơ" {
		t.Errorf("CPĐT-08: %+v", q)
	}
	qs, errs = ParseMoodleXML(readFile(t, "broken.xml"))
	want := []LineError{
		{Line: 10, Code: CodeXMLTypeUnsupported, Args: []string{"cloze"}, Message: `question type "cloze" is not supported`},
		{Line: 14, Code: CodeSingleNoCorrect, Message: "a single-choice question needs one fully correct choice"},
		{Line: 23, Code: CodeXMLSyntax, Args: []string{"element <question> closed by </oops>"}, Message: "XML syntax error: element <question> closed by </oops>"},
	}
	if len(qs) != 1 || !reflect.DeepEqual(errs, want) {
		t.Errorf("broken: %d questions, errors\n got %v\nwant %v", len(qs), errs, want)
	}
	for in, part := range map[string]string{
		"":                                   "no <quiz>",
		"<html></html>":                      "root element",
		"<quiz><question></question></quiz>": "no type",
		"<quiz>\n<question type=\"numerical\"><questiontext><text>x</text></questiontext><answer fraction=\"100\"><text>abc</text></answer></question></quiz>":   "not a number",
		"<quiz>\n\n<question type=\"multichoice\"><questiontext><text>x</text></questiontext><answer fraction=\"abc\"><text>a</text></answer></question></quiz>": "fraction",
		"<quiz><!DOCTYPE x [<!ENTITY a \"b\">]><question": "XML",
	} {
		_, errs := ParseMoodleXML([]byte(in))
		if len(errs) == 0 || !strings.Contains(errs[len(errs)-1].Message, part) {
			t.Errorf("%q: errors %v, want %q", in, errs, part)
		}
	}
}

func TestParseDispatchAndLimits(t *testing.T) {
	if _, errs := Parse("csv", []byte("x")); len(errs) != 1 || !strings.Contains(errs[0].Message, "unknown format") {
		t.Errorf("unknown format: %v", errs)
	}
	if _, errs := Parse(GIFT, make([]byte, MaxFileSize+1)); len(errs) != 1 || !strings.Contains(errs[0].Message, "larger") {
		t.Errorf("too large: %v", errs)
	}
}

// stripLines forgets where questions were in their files, which a round trip changes.
func stripLines(qs []Question) []Question {
	out := make([]Question, len(qs))
	for i, q := range qs {
		q.Line = 0
		out[i] = q
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	var all []Question
	for _, c := range []struct {
		f    Format
		file string
	}{{GIFT, "llct.gift"}, {Aiken, "qtdt.txt"}, {MoodleXML, "moodle.xml"}} {
		qs, errs := Parse(c.f, readFile(t, c.file))
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		for i := range qs {
			if qs[i].Category == "" {
				qs[i].Category = "Aiken"
			}
		}
		all = append(all, qs...)
	}
	all = append(all, Question{Name: "hoa thường", Type: ShortAnswer, Text: "Viết đúng chữ hoa: HĐND", CaseSensitive: true,
		Answers: []Answer{{Text: "HĐND", Fraction: 1}}, Points: 1, Category: "Aiken"})
	var giftable []Question
	for _, q := range all {
		if q.Type != Ordering && !q.CaseSensitive {
			giftable = append(giftable, q)
		}
	}
	var buf bytes.Buffer
	if err := WriteGIFT(&buf, all); !errors.Is(err, ErrNoGIFTForm) {
		t.Errorf("GIFT export of an ordering question: %v", err)
	}
	buf.Reset()
	if err := WriteGIFT(&buf, giftable); err != nil {
		t.Fatal(err)
	}
	back, errs := ParseGIFT(buf.Bytes())
	if len(errs) != 0 {
		t.Fatalf("re-import GIFT: %v\n%s", errs, buf.String())
	}
	compare(t, "GIFT", stripLines(giftable), stripLines(back))

	buf.Reset()
	if err := WriteMoodleXML(&buf, all); err != nil {
		t.Fatal(err)
	}
	back, errs = ParseMoodleXML(buf.Bytes())
	if len(errs) != 0 {
		t.Fatalf("re-import XML: %v\n%s", errs, buf.String())
	}
	compare(t, "Moodle XML", stripLines(all), stripLines(back))
}

func compare(t *testing.T, what string, want, got []Question) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d questions back, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(want[i], got[i]) {
			t.Errorf("%s: question %d differs:\n got %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

func seeds(f *testing.F, files ...string) {
	for _, name := range files {
		f.Add(readFile(f, name))
	}
}

// checkParsed holds every parser to the same promises on any input: no panic, errors
// with a real line, and only questions that pass Validate.
func checkParsed(t *testing.T, data []byte, qs []Question, errs []LineError) {
	lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1
	for _, e := range errs {
		if e.Line < 1 || e.Line > lines {
			t.Fatalf("error line %d outside 1..%d: %v", e.Line, lines, e)
		}
		checkCoded(t, e)
	}
	for _, q := range qs {
		q := q
		if msg := Validate(&q); msg != "" {
			t.Fatalf("returned an invalid question (%s): %+v", msg, q)
		}
		if q.Line < 1 || q.Line > lines {
			t.Fatalf("question line %d outside 1..%d", q.Line, lines)
		}
	}
	var buf bytes.Buffer
	if err := WriteMoodleXML(&buf, qs); err != nil {
		t.Fatalf("export: %v", err)
	}
	if _, errs := ParseMoodleXML(buf.Bytes()); len(errs) != 0 && len(qs) > 0 {
		t.Fatalf("exported XML does not read back: %v", errs)
	}
}

func FuzzGIFT(f *testing.F) {
	seeds(f, "llct.gift", "broken.gift")
	for _, s := range []string{"Q{T}", "::a::b{=c ~d}", "Q{#1..2}", "Q{=a -> b =c -> d}", "{", "}", "\\", "::", "Q{~%", "$CATEGORY:", "// [tag:x]\nQ{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		qs, errs := ParseGIFT(data)
		checkParsed(t, data, qs, errs)
		var buf bytes.Buffer
		_ = WriteGIFT(&buf, qs)
	})
}

func FuzzAiken(f *testing.F) {
	seeds(f, "qtdt.txt", "broken.txt")
	for _, s := range []string{"Q\nA. a\nB. b\nANSWER: A", "ANSWER:", "A. x", "Q\nA) a\nB) b\nANSWER: A,B"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		qs, errs := ParseAiken(data)
		checkParsed(t, data, qs, errs)
	})
}

func FuzzMoodleXML(f *testing.F) {
	seeds(f, "moodle.xml", "broken.xml")
	for _, s := range []string{"<quiz></quiz>", "<quiz><question type=\"essay\"><questiontext><text>x</text></questiontext></question></quiz>", "<", "<quiz><question type=\"category\"/></quiz>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		qs, errs := ParseMoodleXML(data)
		checkParsed(t, data, qs, errs)
	})
}
