package importer

import (
	"strconv"
	"strings"
	"testing"
)

// checkCoded fails unless e carries a known code with as many Args as its message names,
// and its English Message is that message filled with them.
func checkCoded(t *testing.T, e LineError) {
	t.Helper()
	if _, ok := english[e.Code]; !ok {
		t.Fatalf("error without a known code: %+v", e)
	}
	if len(e.Args) != ArgCount(e.Code) {
		t.Fatalf("%s carries %d args, its message names %d: %+v", e.Code, len(e.Args), ArgCount(e.Code), e)
	}
	if want := (Problem{Code: e.Code, Args: e.Args}).Message(); e.Message != want || e.Error() != "line "+strconv.Itoa(e.Line)+": "+want {
		t.Fatalf("message %q, want %q", e.Message, want)
	}
}

func TestEveryCodeHasAnEnglishMessage(t *testing.T) {
	codes := Codes()
	if len(codes) < 50 {
		t.Fatalf("only %d codes", len(codes))
	}
	for _, c := range codes {
		args := make([]string, ArgCount(c))
		for i := range args {
			args[i] = "x"
		}
		msg := Problem{Code: c, Args: args}.Message()
		if msg == "" || strings.Contains(msg, "%!") {
			t.Errorf("%s: message %q", c, msg)
		}
	}
	if (Problem{}).Message() != "" {
		t.Error("the zero Problem has a message")
	}
}

// TestErrorsAreCoded runs broken inputs of each format through the parsers: every error
// carries a code and its args, and the codes seen are the ones expected.
func TestErrorsAreCoded(t *testing.T) {
	cases := []struct {
		format Format
		in     string
		code   Code
		args   []string
	}{
		{GIFT, "Q{=a ~%abc%b}", CodeGIFTWeight, []string{"abc"}},
		{GIFT, "// [points:lots]\nQ{T}", CodeGIFTPoints, []string{"lots"}},
		{GIFT, "::T\nQ{T}", CodeGIFTTitleUnclosed, nil},
		{GIFT, "Q{=a ~b", CodeGIFTBlockUnclosed, nil},
		{GIFT, "Q{=a}{=b}", CodeGIFTTwoBlocks, nil},
		{GIFT, "Q{#abc}", CodeGIFTNumerical, []string{"abc"}},
		{GIFT, "Q{xyz =a ~b}", CodeGIFTTextBeforeAnswers, []string{"xyz"}},
		{GIFT, "Q{=a}", "", nil}, // a short answer: fine
		{GIFT, "Q{~a ~b}", CodeMultipleNoPositive, nil},
		{GIFT, "\xff", CodeNotUTF8, nil},
		{Aiken, "Q\nA. x\nC. y\nANSWER: A", CodeAikenChoiceLetter, []string{"C", "3", "B"}},
		{Aiken, "Q\nA. x\nB. y\nANSWER: A, A", CodeAikenAnswerTwice, []string{"A"}},
		{Aiken, "ANSWER: A", CodeAikenAnswerWithoutQuestion, nil},
		{MoodleXML, "<html></html>", CodeXMLRoot, []string{"html"}},
		{MoodleXML, "<quiz><question></question></quiz>", CodeXMLNoType, nil},
		{MoodleXML, `<quiz><question type="cloze"></question></quiz>`, CodeXMLTypeUnsupported, []string{"cloze"}},
		{"csv", "a,b", CodeUnknownFormat, []string{"csv"}},
	}
	for _, c := range cases {
		_, errs := Parse(c.format, []byte(c.in))
		if c.code == "" {
			if len(errs) != 0 {
				t.Errorf("%s %q: %v", c.format, c.in, errs)
			}
			continue
		}
		if len(errs) != 1 || errs[0].Code != c.code || strings.Join(errs[0].Args, "|") != strings.Join(c.args, "|") {
			t.Errorf("%s %q: errors %+v, want %s %q", c.format, c.in, errs, c.code, c.args)
			continue
		}
		checkCoded(t, errs[0])
	}
	big := make([]byte, MaxFileSize+1)
	if _, errs := Parse(GIFT, big); len(errs) != 1 || errs[0].Code != CodeFileTooLarge || errs[0].Args[0] != "8388608" {
		t.Errorf("a file over the limit: %+v", errs)
	}
}
