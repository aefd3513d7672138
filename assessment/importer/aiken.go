package importer

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	aikenChoice = regexp.MustCompile(`^([A-Z])[.)]\s+(.*)$`)
	aikenAnswer = regexp.MustCompile(`^ANSWER\s*:\s*(.*)$`)
)

// ParseAiken reads the Aiken format: the question text (one or more lines), then choices
// `A. text` or `A) text`, then `ANSWER: B`. Questions are separated by the ANSWER line
// (blank lines between them are optional). `ANSWER: A, C` with several letters makes a
// multiple-answer question where each correct choice earns an equal share.
func ParseAiken(data []byte) ([]Question, []LineError) {
	s, ok := normalize(data)
	if !ok {
		return nil, []LineError{{Line: firstInvalidLine(s), Message: "file is not valid UTF-8"}}
	}
	var (
		qs      []Question
		errs    []LineError
		text    []string
		start   int
		choices []Choice
		letters []byte
		broken  string // why the question being read is already known to be bad
	)
	reset := func() { text, choices, letters, broken, start = nil, nil, nil, "", 0 }
	for i, raw := range strings.Split(s, "\n") {
		ln := i + 1
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		if m := aikenAnswer.FindStringSubmatch(line); m != nil {
			q, msg := aikenQuestion(text, choices, letters, m[1])
			if broken != "" {
				msg = broken
			}
			if start == 0 {
				start = ln
				msg = "ANSWER line without a question before it"
			}
			if msg != "" {
				errs = append(errs, LineError{Line: start, Message: msg})
			} else {
				q.Line = start
				qs = append(qs, q)
			}
			reset()
			continue
		}
		if start == 0 {
			start = ln
		}
		if m := aikenChoice.FindStringSubmatch(line); m != nil && len(text) > 0 {
			letter := m[1][0]
			want := byte('A' + len(choices))
			if letter != want && broken == "" {
				broken = fmt.Sprintf("choice %c on line %d should be %c", letter, ln, want)
			}
			choices = append(choices, Choice{Text: strings.TrimSpace(m[2])})
			letters = append(letters, letter)
			continue
		}
		if len(choices) > 0 {
			// Text after the choices without an ANSWER line: the previous question is
			// missing its answer. Report it and start reading the new question here.
			errs = append(errs, LineError{Line: start, Message: fmt.Sprintf("question has no ANSWER line (line %d starts another question)", ln)})
			reset()
			start = ln
		}
		text = append(text, line)
	}
	if start != 0 {
		errs = append(errs, LineError{Line: start, Message: "question has no ANSWER line before the end of the file"})
	}
	return qs, errs
}

func aikenQuestion(text []string, choices []Choice, letters []byte, answer string) (Question, string) {
	if len(text) == 0 {
		return Question{}, "question has no text"
	}
	if len(choices) < 2 {
		return Question{}, "question needs at least two choices A., B., …"
	}
	q := Question{Type: Single, Text: strings.Join(text, "\n"), Choices: choices, Points: 1}
	keys := strings.FieldsFunc(strings.ToUpper(answer), func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	if len(keys) == 0 {
		return Question{}, "ANSWER names no choice"
	}
	if len(keys) > 1 {
		q.Type = Multiple
	}
	seen := map[int]bool{}
	for _, k := range keys {
		idx := -1
		if len(k) == 1 {
			for i, l := range letters {
				if l == k[0] {
					idx = i
				}
			}
		}
		if idx < 0 {
			return Question{}, fmt.Sprintf("ANSWER %q is not one of the choices", k)
		}
		if seen[idx] {
			return Question{}, fmt.Sprintf("ANSWER names %s twice", k)
		}
		seen[idx] = true
	}
	for i := range q.Choices {
		if seen[i] {
			q.Choices[i].Fraction = roundFraction(1 / float64(len(keys)))
			if q.Type == Single {
				q.Choices[i].Fraction = 1
			}
		} else if q.Type == Multiple {
			q.Choices[i].Fraction = roundFraction(-1 / float64(len(q.Choices)-len(keys)))
			if len(q.Choices) == len(keys) {
				q.Choices[i].Fraction = 0
			}
		}
	}
	if msg := Validate(&q); msg != "" {
		return Question{}, msg
	}
	return q, ""
}
