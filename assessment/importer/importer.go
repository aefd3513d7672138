// Package importer reads and writes question banks in the formats Moodle users already have:
// GIFT, Aiken and Moodle XML. It is pure: bytes in, questions and line-numbered errors out,
// no database. The assessment package turns the questions it returns into bank questions.
//
// Every parser accepts UTF-8 with or without a byte-order mark and with Unix, Windows or
// old Mac line endings, and never panics (fuzz tests hold it to that).
package importer

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Format names a file format.
type Format string

// The supported formats.
const (
	GIFT      Format = "gift"
	Aiken     Format = "aiken"
	MoodleXML Format = "moodle_xml"
)

// Valid reports whether f is one of the supported formats.
func (f Format) Valid() bool { return f == GIFT || f == Aiken || f == MoodleXML }

// Type is a question type, spelled as the assessment package spells it.
type Type string

// The question types the formats can carry.
const (
	Single      Type = "single"
	Multiple    Type = "multiple"
	TrueFalse   Type = "true_false"
	ShortAnswer Type = "short_answer"
	Numerical   Type = "numerical"
	Matching    Type = "matching"
	Ordering    Type = "ordering"
	Essay       Type = "essay"
	Description Type = "description"
)

// Question is one question read from a file.
type Question struct {
	// Line is the 1-based line where the question starts in its file.
	Line     int    `json:"line"`
	Name     string `json:"name,omitempty"`
	Category string `json:"category,omitempty"`
	Type     Type   `json:"type"`
	// Format is the markup of Text: "" (plain or Moodle auto-format), "html" or "markdown".
	Format string `json:"format,omitempty"`
	Text   string `json:"text"`
	// Choices of single, multiple and ordering questions; for ordering in the correct order.
	Choices []Choice `json:"choices,omitempty"`
	// Answers accepted by a short_answer question.
	Answers []Answer `json:"answers,omitempty"`
	// Numeric answers of a numerical question.
	Numeric []Numeric `json:"numeric,omitempty"`
	// Pairs of a matching question; a pair with an empty Left is a distractor.
	Pairs []Pair `json:"pairs,omitempty"`
	// Correct is the key of a true_false question; TrueFeedback and FalseFeedback are
	// shown to whoever answered true or false respectively.
	Correct       bool   `json:"correct,omitempty"`
	TrueFeedback  string `json:"true_feedback,omitempty"`
	FalseFeedback string `json:"false_feedback,omitempty"`
	CaseSensitive bool   `json:"case_sensitive,omitempty"`
	// Feedback is the general feedback shown after the question is answered.
	Feedback string   `json:"feedback,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	// Points is the question's default mark: 1 when the file does not say.
	Points float64 `json:"points,omitempty"`
}

// Choice is one option of a choice question. Fraction is the share of the question's
// points it earns when chosen, between -1 and 1.
type Choice struct {
	Text     string  `json:"text"`
	Fraction float64 `json:"fraction"`
	Feedback string  `json:"feedback,omitempty"`
}

// Answer is one accepted short answer and the share of the points it earns.
type Answer struct {
	Text     string  `json:"text"`
	Fraction float64 `json:"fraction"`
	Feedback string  `json:"feedback,omitempty"`
}

// Numeric is one accepted numerical answer: Value ± Tolerance.
type Numeric struct {
	Value     float64 `json:"value"`
	Tolerance float64 `json:"tolerance"`
	Fraction  float64 `json:"fraction"`
	Feedback  string  `json:"feedback,omitempty"`
}

// Pair is one row of a matching question.
type Pair struct {
	Left  string `json:"left"`
	Right string `json:"right"`
}

// LineError is one problem found in a file, with the 1-based line it is on. Code and
// Args say what it is for pages to translate (see Code); Message says it in English.
type LineError struct {
	Line    int      `json:"line"`
	Code    Code     `json:"code"`
	Args    []string `json:"args,omitempty"`
	Message string   `json:"message"`
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Message) }

// MaxFileSize is the largest file the parsers accept (8 MiB), so that a hostile upload
// cannot make the server build an unbounded question list.
const MaxFileSize = 8 << 20

// Parse reads a file in the given format. It returns the questions that parsed and one
// error per question (or per file-level problem) that did not, each naming its line.
// Whether a file with errors is stored at all is the caller's choice.
func Parse(f Format, data []byte) ([]Question, []LineError) {
	if len(data) > MaxFileSize {
		return nil, []LineError{lineError(1, CodeFileTooLarge, MaxFileSize)}
	}
	switch f {
	case GIFT:
		return ParseGIFT(data)
	case Aiken:
		return ParseAiken(data)
	case MoodleXML:
		return ParseMoodleXML(data)
	}
	return nil, []LineError{lineError(1, CodeUnknownFormat, f)}
}

// normalize strips a UTF-8 byte-order mark and turns CRLF and lone CR into LF. It reports
// whether the text is valid UTF-8.
func normalize(data []byte) (string, bool) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	s := string(data)
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return s, utf8.ValidString(s)
}

// firstInvalidLine returns the line of the first byte that is not valid UTF-8.
func firstInvalidLine(s string) int {
	line := 1
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		i += n
	}
	return line
}

// roundFraction keeps seven decimals, as Moodle does, so that a fraction survives being
// written as a percentage and read back.
func roundFraction(f float64) float64 { return math.Round(f*1e7) / 1e7 }

// Validate checks the rules every question must meet whatever format it came from, and
// returns the first problem as a message in English, or "".
func Validate(q *Question) string { return Check(q).Message() }

// Check is Validate with the problem coded: the zero Problem when q is fine.
func Check(q *Question) Problem {
	if strings.TrimSpace(q.Text) == "" {
		return problem(CodeTextEmpty)
	}
	if math.IsNaN(q.Points) || math.IsInf(q.Points, 0) || q.Points < 0 {
		return problem(CodePointsInvalid)
	}
	for _, c := range q.Choices {
		if math.IsNaN(c.Fraction) || c.Fraction < -1 || c.Fraction > 1 {
			return problem(CodeWeightRange)
		}
	}
	switch q.Type {
	case Single:
		if len(q.Choices) < 2 {
			return problem(CodeSingleFewChoices)
		}
		full := false
		for _, c := range q.Choices {
			full = full || c.Fraction >= 1
		}
		if !full {
			return problem(CodeSingleNoCorrect)
		}
	case Multiple:
		if len(q.Choices) < 2 {
			return problem(CodeMultipleFewChoices)
		}
		pos := false
		for _, c := range q.Choices {
			pos = pos || c.Fraction > 0
		}
		if !pos {
			return problem(CodeMultipleNoPositive)
		}
	case Ordering:
		if len(q.Choices) < 2 {
			return problem(CodeOrderingFewItems)
		}
	case ShortAnswer:
		if len(q.Answers) == 0 {
			return problem(CodeShortNoAnswers)
		}
		best := 0.0
		for _, a := range q.Answers {
			if strings.TrimSpace(a.Text) == "" {
				return problem(CodeShortAnswerEmpty)
			}
			if math.IsNaN(a.Fraction) || a.Fraction < -1 || a.Fraction > 1 {
				return problem(CodeWeightRange)
			}
			best = max(best, a.Fraction)
		}
		if best <= 0 {
			return problem(CodeShortNoPositive)
		}
	case Numerical:
		if len(q.Numeric) == 0 {
			return problem(CodeNumericalNone)
		}
		for _, n := range q.Numeric {
			if math.IsNaN(n.Value) || math.IsInf(n.Value, 0) || math.IsNaN(n.Tolerance) || math.IsInf(n.Tolerance, 0) || n.Tolerance < 0 {
				return problem(CodeNumericalInvalid)
			}
			if math.IsNaN(n.Fraction) || n.Fraction < -1 || n.Fraction > 1 {
				return problem(CodeWeightRange)
			}
		}
	case Matching:
		real := 0
		for _, p := range q.Pairs {
			if strings.TrimSpace(p.Right) == "" {
				return problem(CodeMatchingNoRight)
			}
			if p.Left != "" {
				real++
			}
		}
		if real < 2 {
			return problem(CodeMatchingFewPairs)
		}
	case TrueFalse, Essay, Description:
	default:
		return problem(CodeTypeUnknown, q.Type)
	}
	return Problem{}
}
