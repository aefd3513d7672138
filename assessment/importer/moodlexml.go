package importer

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

type mxText struct {
	Text string `xml:"text"`
}

type mxFText struct {
	Format string `xml:"format,attr,omitempty"`
	Text   string `xml:"text"`
}

type mxAnswer struct {
	Fraction  string   `xml:"fraction,attr"`
	Format    string   `xml:"format,attr,omitempty"`
	Text      string   `xml:"text"`
	Feedback  *mxFText `xml:"feedback,omitempty"`
	Tolerance string   `xml:"tolerance,omitempty"`
}

type mxSub struct {
	Format string `xml:"format,attr,omitempty"`
	Text   string `xml:"text"`
	Answer mxText `xml:"answer"`
}

type mxQuestion struct {
	XMLName         xml.Name   `xml:"question"`
	Type            string     `xml:"type,attr"`
	Category        *mxText    `xml:"category,omitempty"`
	Name            *mxText    `xml:"name,omitempty"`
	QuestionText    *mxFText   `xml:"questiontext,omitempty"`
	GeneralFeedback *mxFText   `xml:"generalfeedback,omitempty"`
	DefaultGrade    string     `xml:"defaultgrade,omitempty"`
	Single          string     `xml:"single,omitempty"`
	ShuffleAnswers  string     `xml:"shuffleanswers,omitempty"`
	UseCase         string     `xml:"usecase,omitempty"`
	Answers         []mxAnswer `xml:"answer"`
	Subquestions    []mxSub    `xml:"subquestion"`
	Tags            []mxText   `xml:"tags>tag"`
}

// ParseMoodleXML reads Moodle XML (`<quiz><question type="…">…`): category, multichoice
// (single or multiple), truefalse, shortanswer, numerical, matching, essay, description
// and the ordering plugin's type. Other types (cloze, calculated, drag and drop, …) are
// reported as unsupported on their line. An XML syntax error ends the reading with an
// error naming its line.
func ParseMoodleXML(data []byte) ([]Question, []LineError) {
	s, ok := normalize(data)
	if !ok {
		return nil, []LineError{lineError(firstInvalidLine(s), CodeNotUTF8)}
	}
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	var (
		qs       []Question
		errs     []LineError
		category string
		depth    int
		sawQuiz  bool
	)
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return qs, append(errs, xmlError(err, line))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				if t.Name.Local != "quiz" {
					return nil, []LineError{lineError(line, CodeXMLRoot, t.Name.Local)}
				}
				sawQuiz = true
				continue
			}
			if depth != 2 || t.Name.Local != "question" {
				if err := d.Skip(); err != nil {
					return qs, append(errs, xmlError(err, line))
				}
				depth--
				continue
			}
			startLine, _ := d.InputPos()
			var mq mxQuestion
			if err := d.DecodeElement(&mq, &t); err != nil {
				return qs, append(errs, xmlError(err, startLine))
			}
			depth--
			if mq.Type == "category" {
				if mq.Category == nil {
					errs = append(errs, lineError(startLine, CodeXMLCategoryEmpty))
					continue
				}
				category = CleanCategory(strings.TrimSpace(mq.Category.Text))
				continue
			}
			q, pr := fromMoodle(mq)
			q.Line, q.Category = startLine, category
			if pr.Code == "" {
				pr = Check(&q)
			}
			if pr.Code != "" {
				errs = append(errs, pr.At(startLine))
				continue
			}
			qs = append(qs, q)
		case xml.EndElement:
			depth--
		}
	}
	if !sawQuiz {
		return nil, []LineError{lineError(1, CodeXMLNotMoodle)}
	}
	return qs, errs
}

func xmlError(err error, line int) LineError {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return lineError(se.Line, CodeXMLSyntax, se.Msg)
	}
	return lineError(line, CodeXMLError, err.Error())
}

func moodleFormat(f string) string {
	switch f {
	case "html", "markdown":
		return f
	}
	return ""
}

func moodleFraction(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < -100 || f > 100 {
		return 0, false
	}
	return roundFraction(f / 100), true
}

func moodleBool(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return s == "true" || s == "1"
}

func feedbackText(f *mxFText) string {
	if f == nil {
		return ""
	}
	return strings.TrimSpace(f.Text)
}

func fromMoodle(mq mxQuestion) (Question, Problem) {
	q := Question{Points: 1}
	if mq.Name != nil {
		q.Name = strings.TrimSpace(mq.Name.Text)
	}
	if mq.QuestionText != nil {
		q.Text = strings.TrimSpace(mq.QuestionText.Text)
		q.Format = moodleFormat(mq.QuestionText.Format)
	}
	q.Feedback = feedbackText(mq.GeneralFeedback)
	for _, t := range mq.Tags {
		if v := strings.TrimSpace(t.Text); v != "" {
			q.Tags = append(q.Tags, v)
		}
	}
	if g := strings.TrimSpace(mq.DefaultGrade); g != "" {
		p, err := strconv.ParseFloat(g, 64)
		if err != nil || p < 0 || p > 1e6 {
			return q, problem(CodeXMLDefaultGrade, g)
		}
		q.Points = p
	}
	for _, a := range mq.Answers {
		if _, ok := moodleFraction(a.Fraction); !ok {
			return q, problem(CodeXMLFraction, a.Fraction)
		}
	}
	frac := func(a mxAnswer) float64 { f, _ := moodleFraction(a.Fraction); return f }
	switch mq.Type {
	case "multichoice":
		q.Type = Multiple
		if mq.Single == "" || moodleBool(mq.Single) {
			q.Type = Single
		}
		for _, a := range mq.Answers {
			q.Choices = append(q.Choices, Choice{Text: strings.TrimSpace(a.Text), Fraction: frac(a), Feedback: feedbackText(a.Feedback)})
		}
	case "ordering":
		q.Type = Ordering
		for _, a := range mq.Answers {
			q.Choices = append(q.Choices, Choice{Text: strings.TrimSpace(a.Text), Feedback: feedbackText(a.Feedback)})
		}
	case "truefalse":
		q.Type = TrueFalse
		seen := false
		for _, a := range mq.Answers {
			switch strings.ToLower(strings.TrimSpace(a.Text)) {
			case "true":
				q.TrueFeedback = feedbackText(a.Feedback)
				if frac(a) > 0 {
					q.Correct, seen = true, true
				}
			case "false":
				q.FalseFeedback = feedbackText(a.Feedback)
				if frac(a) > 0 {
					q.Correct, seen = false, true
				}
			default:
				return q, problem(CodeXMLTrueFalseAnswer, a.Text)
			}
		}
		if !seen {
			return q, problem(CodeXMLTrueFalseNoKey)
		}
	case "shortanswer":
		q.Type = ShortAnswer
		q.CaseSensitive = moodleBool(mq.UseCase)
		for _, a := range mq.Answers {
			q.Answers = append(q.Answers, Answer{Text: strings.TrimSpace(a.Text), Fraction: frac(a), Feedback: feedbackText(a.Feedback)})
		}
	case "numerical":
		q.Type = Numerical
		for _, a := range mq.Answers {
			v, err := strconv.ParseFloat(strings.TrimSpace(a.Text), 64)
			if err != nil || math.IsInf(v, 0) {
				return q, problem(CodeXMLNumerical, a.Text)
			}
			tol := 0.0
			if t := strings.TrimSpace(a.Tolerance); t != "" {
				if tol, err = strconv.ParseFloat(t, 64); err != nil {
					return q, problem(CodeXMLTolerance, a.Tolerance)
				}
			}
			q.Numeric = append(q.Numeric, Numeric{Value: v, Tolerance: tol, Fraction: frac(a), Feedback: feedbackText(a.Feedback)})
		}
	case "matching":
		q.Type = Matching
		for _, s := range mq.Subquestions {
			q.Pairs = append(q.Pairs, Pair{Left: strings.TrimSpace(s.Text), Right: strings.TrimSpace(s.Answer.Text)})
		}
	case "essay":
		q.Type = Essay
	case "description":
		q.Type = Description
	case "":
		return q, problem(CodeXMLNoType)
	default:
		return q, problem(CodeXMLTypeUnsupported, mq.Type)
	}
	return q, Problem{}
}

// WriteMoodleXML writes questions as a Moodle XML file, with a category entry before each
// run of questions in the same category. Every type this package reads can be written.
func WriteMoodleXML(w io.Writer, qs []Question) error {
	var buf bytes.Buffer
	buf.WriteString(xml.Header + "<quiz>\n")
	enc := xml.NewEncoder(&buf)
	enc.Indent("  ", "  ")
	category := "\x00"
	pct := func(f float64) string { return strconv.FormatFloat(math.Round(f*1e7)/1e5, 'f', -1, 64) }
	fb := func(s string) *mxFText {
		if s == "" {
			return nil
		}
		return &mxFText{Format: "html", Text: s}
	}
	for i := range qs {
		q := &qs[i]
		if q.Category != category {
			category = q.Category
			if err := enc.Encode(mxQuestion{Type: "category", Category: &mxText{Text: "$course$/top/" + q.Category}}); err != nil {
				return fmt.Errorf("importer: write Moodle XML: %w", err)
			}
		}
		format := q.Format
		if format == "" {
			format = "moodle_auto_format"
		}
		mq := mxQuestion{
			Name:            &mxText{Text: q.Name},
			QuestionText:    &mxFText{Format: format, Text: q.Text},
			GeneralFeedback: fb(q.Feedback),
		}
		if q.Points != 1 {
			mq.DefaultGrade = strconv.FormatFloat(q.Points, 'f', -1, 64)
		}
		for _, t := range q.Tags {
			mq.Tags = append(mq.Tags, mxText{Text: t})
		}
		switch q.Type {
		case Single, Multiple:
			mq.Type, mq.Single = "multichoice", strconv.FormatBool(q.Type == Single)
			for _, c := range q.Choices {
				mq.Answers = append(mq.Answers, mxAnswer{Fraction: pct(c.Fraction), Text: c.Text, Feedback: fb(c.Feedback)})
			}
		case Ordering:
			mq.Type = "ordering"
			for _, c := range q.Choices {
				mq.Answers = append(mq.Answers, mxAnswer{Fraction: "100", Text: c.Text, Feedback: fb(c.Feedback)})
			}
		case TrueFalse:
			mq.Type = "truefalse"
			t, f := "0", "100"
			if q.Correct {
				t, f = "100", "0"
			}
			mq.Answers = []mxAnswer{{Fraction: t, Text: "true", Feedback: fb(q.TrueFeedback)}, {Fraction: f, Text: "false", Feedback: fb(q.FalseFeedback)}}
		case ShortAnswer:
			mq.Type, mq.UseCase = "shortanswer", "0"
			if q.CaseSensitive {
				mq.UseCase = "1"
			}
			for _, a := range q.Answers {
				mq.Answers = append(mq.Answers, mxAnswer{Fraction: pct(a.Fraction), Text: a.Text, Feedback: fb(a.Feedback)})
			}
		case Numerical:
			mq.Type = "numerical"
			for _, n := range q.Numeric {
				mq.Answers = append(mq.Answers, mxAnswer{Fraction: pct(n.Fraction), Text: strconv.FormatFloat(n.Value, 'g', -1, 64),
					Tolerance: strconv.FormatFloat(n.Tolerance, 'g', -1, 64), Feedback: fb(n.Feedback)})
			}
		case Matching:
			mq.Type = "matching"
			for _, p := range q.Pairs {
				mq.Subquestions = append(mq.Subquestions, mxSub{Format: "html", Text: p.Left, Answer: mxText{Text: p.Right}})
			}
		case Essay:
			mq.Type = "essay"
		case Description:
			mq.Type = "description"
		default:
			return fmt.Errorf("importer: question %q has unknown type %q", q.Name, q.Type)
		}
		if err := enc.Encode(mq); err != nil {
			return fmt.Errorf("importer: write Moodle XML: %w", err)
		}
	}
	if err := enc.Flush(); err != nil {
		return fmt.Errorf("importer: write Moodle XML: %w", err)
	}
	buf.WriteString("\n</quiz>\n")
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("importer: write Moodle XML: %w", err)
	}
	return nil
}
