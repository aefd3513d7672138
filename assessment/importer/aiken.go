package importer

import (
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
		return nil, []LineError{lineError(firstInvalidLine(s), CodeNotUTF8)}
	}
	var (
		qs      []Question
		errs    []LineError
		text    []string
		start   int
		choices []Choice
		letters []byte
		broken  Problem // why the question being read is already known to be bad
	)
	reset := func() { text, choices, letters, broken, start = nil, nil, nil, Problem{}, 0 }
	for i, raw := range strings.Split(s, "\n") {
		ln := i + 1
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		if m := aikenAnswer.FindStringSubmatch(line); m != nil {
			q, pr := aikenQuestion(text, choices, letters, m[1])
			if broken.Code != "" {
				pr = broken
			}
			if start == 0 {
				start = ln
				pr = problem(CodeAikenAnswerWithoutQuestion)
			}
			if pr.Code != "" {
				errs = append(errs, pr.At(start))
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
			if letter != want && broken.Code == "" {
				broken = problem(CodeAikenChoiceLetter, string(rune(letter)), ln, string(rune(want)))
			}
			choices = append(choices, Choice{Text: strings.TrimSpace(m[2])})
			letters = append(letters, letter)
			continue
		}
		if len(choices) > 0 {
			// Text after the choices without an ANSWER line: the previous question is
			// missing its answer. Report it and start reading the new question here.
			errs = append(errs, lineError(start, CodeAikenNoAnswerBefore, ln))
			reset()
			start = ln
		}
		text = append(text, line)
	}
	if start != 0 {
		errs = append(errs, lineError(start, CodeAikenNoAnswerAtEnd))
	}
	return qs, errs
}

func aikenQuestion(text []string, choices []Choice, letters []byte, answer string) (Question, Problem) {
	if len(text) == 0 {
		return Question{}, problem(CodeAikenNoText)
	}
	if len(choices) < 2 {
		return Question{}, problem(CodeAikenFewChoices)
	}
	q := Question{Type: Single, Text: strings.Join(text, "\n"), Choices: choices, Points: 1}
	keys := strings.FieldsFunc(strings.ToUpper(answer), func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	if len(keys) == 0 {
		return Question{}, problem(CodeAikenAnswerNone)
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
			return Question{}, problem(CodeAikenAnswerUnknown, k)
		}
		if seen[idx] {
			return Question{}, problem(CodeAikenAnswerTwice, k)
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
	if pr := Check(&q); pr.Code != "" {
		return Question{}, pr
	}
	return q, Problem{}
}
