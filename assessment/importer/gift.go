package importer

import (
	"regexp"
	"strconv"
	"strings"
)

// ParseGIFT reads GIFT as Moodle defines it: questions separated by blank lines, `//`
// comment lines (with Moodle's `[tag:…]` markers, plus `[points:…]`, which other readers
// ignore), `::title::`, an optional `[html]`/`[markdown]`/`[plain]`/`[moodle]` text format,
// `$CATEGORY:` lines, and one answer block in braces:
//
//	{=right ~wrong}                 single choice (`~%50%` gives partial credit)
//	{~%50%a ~%50%b ~%-100%c}        multiple answers (no `=`), weights may be negative
//	{T} {F} {TRUE} {FALSE}          true/false, with `#wrong-feedback#right-feedback`
//	{=answer =other}                short answer (every answer starts with `=`)
//	{=a -> 1 =b -> 2}               matching
//	{#3.14:0.01} {#1..5} {#=3 =%50%2:1}  numerical (value, value:tolerance, min..max)
//	{}                              essay
//	text with no braces             description
//
// `#` after an answer is its feedback, `####` the general feedback, and text after the
// closing brace makes a missing-word question. `\:` `\=` `\~` `\#` `\{` `\}` `\\` escape,
// `\n` is a line break. A blank line inside an unclosed brace does not end the question.
func ParseGIFT(data []byte) ([]Question, []LineError) {
	s, ok := normalize(data)
	if !ok {
		return nil, []LineError{lineError(firstInvalidLine(s), CodeNotUTF8)}
	}
	p := giftParser{points: 1}
	var (
		block []string
		start int
		scan  braceScan
	)
	flush := func() {
		if len(block) > 0 {
			p.block(block, start)
		}
		block, scan = block[:0], braceScan{}
	}
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "//") && !scan.open() {
			if len(block) == 0 {
				p.comment(trimmed)
			}
			continue
		}
		if trimmed == "" {
			if len(block) > 0 && scan.open() && !nextStartsQuestion(lines[i+1:]) {
				block = append(block, "")
				scan.feed("\n")
			} else {
				flush()
			}
			continue
		}
		if len(block) == 0 {
			start = i + 1
		}
		block = append(block, line)
		scan.feed(line + "\n")
	}
	flush()
	return p.qs, p.errs
}

// nextStartsQuestion reports whether the next non-blank line plainly begins a new
// question (a title, a category or a comment), so that a forgotten } is reported on its
// own question instead of swallowing the ones after it.
func nextStartsQuestion(lines []string) bool {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		return strings.HasPrefix(t, "::") || strings.HasPrefix(t, "$CATEGORY:") || strings.HasPrefix(t, "//")
	}
	return true
}

// braceScan follows unescaped braces across the lines of a block.
type braceScan struct {
	escaped bool
	depth   int
}

func (b *braceScan) feed(s string) {
	for i := 0; i < len(s); i++ {
		switch {
		case b.escaped:
			b.escaped = false
		case s[i] == '\\':
			b.escaped = true
		case s[i] == '{':
			b.depth++
		case s[i] == '}':
			if b.depth > 0 {
				b.depth--
			}
		}
	}
}

func (b *braceScan) open() bool { return b.depth > 0 }

type giftParser struct {
	qs       []Question
	errs     []LineError
	category string
	tags     []string
	points   float64
	metaErr  Problem
}

var giftMeta = regexp.MustCompile(`\[(tag|points):([^\]]*)\]`)

// comment reads Moodle's metadata markers from a comment line before a question.
func (p *giftParser) comment(line string) {
	for _, m := range giftMeta.FindAllStringSubmatch(line, -1) {
		v := strings.TrimSpace(m[2])
		switch m[1] {
		case "tag":
			if v != "" {
				p.tags = append(p.tags, v)
			}
		case "points":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1e6 {
				p.metaErr = problem(CodeGIFTPoints, v)
				continue
			}
			p.points = f
		}
	}
}

func (p *giftParser) block(lines []string, start int) {
	if strings.HasPrefix(strings.TrimSpace(lines[0]), "$CATEGORY:") {
		cat := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[0]), "$CATEGORY:"))
		p.category = CleanCategory(cat)
		lines, start = lines[1:], start+1
		if len(lines) == 0 {
			return
		}
	}
	text := strings.Join(lines, "\n")
	q, err := parseGIFTQuestion(text, start)
	if err == nil && p.metaErr.Code != "" {
		e := p.metaErr.At(start)
		err = &e
	}
	q.Category, q.Tags, q.Points = p.category, p.tags, p.points
	p.tags, p.points, p.metaErr = nil, 1, Problem{}
	if err == nil {
		if pr := Check(&q); pr.Code != "" {
			e := pr.At(start)
			err = &e
		}
	}
	if err != nil {
		p.errs = append(p.errs, *err)
		return
	}
	p.qs = append(p.qs, q)
}

// CleanCategory turns a Moodle category path such as `$course$/top/LLCT/Chương 1` into
// the bank path `LLCT/Chương 1`: context prefixes and the `top` root are dropped, and
// empty segments removed.
func CleanCategory(c string) string {
	parts := strings.Split(c, "/")
	out := parts[:0]
	for i, s := range parts {
		s = strings.TrimSpace(s)
		if s == "" || (len(out) == 0 && strings.HasPrefix(s, "$") && strings.HasSuffix(s, "$") && len(s) > 1) {
			continue
		}
		if len(out) == 0 && s == "top" && i < 2 {
			continue
		}
		out = append(out, s)
	}
	return strings.Join(out, "/")
}

// indexUnescaped returns the index of sub in s at or after from, skipping characters
// escaped with a backslash, or -1.
func indexUnescaped(s, sub string, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if strings.HasPrefix(s[i:], sub) {
			return i
		}
	}
	return -1
}

// unescapeGIFT resolves GIFT escapes and trims the result.
func unescapeGIFT(s string) string {
	s = strings.TrimSpace(s)
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch c := s[i+1]; c {
			case ':', '=', '~', '#', '{', '}', '\\':
				b.WriteByte(c)
				i++
				continue
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return strings.TrimSpace(b.String())
}

func parseGIFTQuestion(text string, start int) (Question, *LineError) {
	q := Question{Line: start}
	lineAt := func(off int) int { return start + strings.Count(text[:max(0, min(off, len(text)))], "\n") }
	fail := func(off int, code Code, args ...any) (Question, *LineError) {
		e := lineError(lineAt(off), code, args...)
		return q, &e
	}
	pos := len(text) - len(strings.TrimLeft(text, " \t\n"))
	if strings.HasPrefix(text[pos:], "::") {
		end := indexUnescaped(text, "::", pos+2)
		if end < 0 {
			return fail(pos, CodeGIFTTitleUnclosed)
		}
		q.Name = unescapeGIFT(text[pos+2 : end])
		pos = end + 2
	}
	open := indexUnescaped(text, "{", pos)
	if open < 0 {
		if c := indexUnescaped(text, "}", pos); c >= 0 {
			return fail(c, CodeGIFTBraceUnopened)
		}
		q.Type = Description
		q.Format, q.Text = giftFormat(text[pos:])
		return q, nil
	}
	closing := indexUnescaped(text, "}", open+1)
	if closing < 0 {
		return fail(open, CodeGIFTBlockUnclosed)
	}
	if nested := indexUnescaped(text[:closing], "{", open+1); nested >= 0 {
		return fail(nested, CodeGIFTBraceNested)
	}
	if c := indexUnescaped(text[:open], "}", pos); c >= 0 {
		return fail(c, CodeGIFTBraceUnopened)
	}
	after := text[closing+1:]
	if o := indexUnescaped(after, "{", 0); o >= 0 {
		return fail(closing+1+o, CodeGIFTTwoBlocks)
	}
	if c := indexUnescaped(after, "}", 0); c >= 0 {
		return fail(closing+1+c, CodeGIFTBraceUnopened)
	}
	format, before := giftFormat(text[pos:open])
	q.Format, q.Text = format, before
	if rest := unescapeGIFT(after); rest != "" {
		q.Text = strings.TrimSpace(before + " _____ " + rest)
	}
	if err := parseGIFTAnswers(&q, text[open+1:closing], open+1, lineAt); err != nil {
		return q, err
	}
	return q, nil
}

// giftFormat splits an optional [format] prefix off question text.
func giftFormat(s string) (string, string) {
	t := strings.TrimSpace(s)
	for _, f := range []string{"html", "markdown", "plain", "moodle"} {
		if strings.HasPrefix(t, "["+f+"]") {
			t = t[len(f)+2:]
			if f == "plain" || f == "moodle" {
				f = ""
			}
			return f, unescapeGIFT(t)
		}
	}
	return "", unescapeGIFT(t)
}

type giftAnswer struct {
	mark     byte
	off      int
	weight   float64
	weighted bool
	text     string
	feedback string
}

func parseGIFTAnswers(q *Question, ans string, base int, lineAt func(int) int) *LineError {
	fail := func(off int, code Code, args ...any) *LineError {
		e := lineError(lineAt(base+off), code, args...)
		return &e
	}
	if i := indexUnescaped(ans, "####", 0); i >= 0 {
		q.Feedback = unescapeGIFT(ans[i+4:])
		ans = ans[:i]
	}
	t := strings.TrimSpace(ans)
	lead := len(ans) - len(strings.TrimLeft(ans, " \t\n"))
	switch {
	case t == "":
		q.Type = Essay
		return nil
	case t[0] == '#':
		q.Type = Numerical
		body := ans[lead+1:]
		if indexUnescaped(body, "=", 0) < 0 && indexUnescaped(body, "~", 0) < 0 {
			v, fb, _ := strings.Cut(body, "#")
			n, ok := parseNumeric(v)
			if !ok {
				return fail(lead, CodeGIFTNumerical, strings.TrimSpace(v))
			}
			n.Fraction, n.Feedback = 1, unescapeGIFT(fb)
			q.Numeric = []Numeric{n}
			return nil
		}
		list, err := splitGIFTAnswers(body, lead+1, fail)
		if err != nil {
			return err
		}
		for _, a := range list {
			if a.mark == '~' {
				return fail(a.off, CodeGIFTNumericalMark)
			}
			n, ok := parseNumeric(a.text)
			if !ok {
				return fail(a.off, CodeGIFTNumerical, a.text)
			}
			n.Fraction, n.Feedback = 1, a.feedback
			if a.weighted {
				n.Fraction = a.weight
			}
			q.Numeric = append(q.Numeric, n)
		}
		return nil
	case indexUnescaped(t, "~", 0) < 0 && indexUnescaped(t, "=", 0) < 0:
		parts := splitUnescaped(ans, '#')
		switch strings.ToUpper(strings.TrimSpace(parts[0])) {
		case "T", "TRUE":
			q.Correct = true
		case "F", "FALSE":
			q.Correct = false
		default:
			return fail(lead, CodeGIFTAnswerUnknown, unescapeGIFT(parts[0]))
		}
		if len(parts) > 3 {
			return fail(lead, CodeGIFTTrueFalseFeedback)
		}
		q.Type = TrueFalse
		var wrong, right string
		if len(parts) > 1 {
			wrong = unescapeGIFT(parts[1])
		}
		if len(parts) > 2 {
			right = unescapeGIFT(parts[2])
		}
		if q.Correct {
			q.TrueFeedback, q.FalseFeedback = right, wrong
		} else {
			q.TrueFeedback, q.FalseFeedback = wrong, right
		}
		return nil
	}
	list, err := splitGIFTAnswers(ans, 0, fail)
	if err != nil {
		return err
	}
	hasTilde, hasEq := false, false
	for _, a := range list {
		hasTilde = hasTilde || a.mark == '~'
		hasEq = hasEq || a.mark == '='
	}
	switch {
	case hasTilde:
		q.Type = Multiple
		if hasEq {
			q.Type = Single
		}
		for _, a := range list {
			f := 0.0
			if a.mark == '=' {
				f = 1
			}
			if a.weighted {
				f = a.weight
			}
			if a.text == "" {
				return fail(a.off, CodeGIFTAnswerEmpty)
			}
			q.Choices = append(q.Choices, Choice{Text: a.text, Fraction: f, Feedback: a.feedback})
		}
	case matchingAnswers(list):
		q.Type = Matching
		for _, a := range list {
			i := strings.Index(a.raw(), "->")
			if i < 0 {
				return fail(a.off, CodeGIFTMatchingSyntax)
			}
			q.Pairs = append(q.Pairs, Pair{Left: unescapeGIFT(a.raw()[:i]), Right: unescapeGIFT(a.raw()[i+2:])})
		}
	default:
		q.Type = ShortAnswer
		for _, a := range list {
			f := 1.0
			if a.weighted {
				f = a.weight
			}
			q.Answers = append(q.Answers, Answer{Text: a.text, Fraction: f, Feedback: a.feedback})
		}
	}
	return nil
}

// raw returns the answer text before unescaping; matching splits on "->" in it. The text
// field keeps the unescaped form, so matching re-reads the escaped one.
func (a giftAnswer) raw() string { return a.text }

func matchingAnswers(list []giftAnswer) bool {
	for _, a := range list {
		if strings.Contains(a.text, "->") {
			return true
		}
	}
	return false
}

// splitUnescaped splits s at every unescaped sep.
func splitUnescaped(s string, sep byte) []string {
	var parts []string
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == sep {
			parts = append(parts, s[last:i])
			last = i + 1
		}
	}
	return append(parts, s[last:])
}

// splitGIFTAnswers cuts an answer block into its `=` and `~` answers, reading each one's
// optional %weight% and #feedback.
func splitGIFTAnswers(s string, base int, fail func(int, Code, ...any) *LineError) ([]giftAnswer, *LineError) {
	var starts []int
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == '=' || s[i] == '~' {
			starts = append(starts, i)
		}
	}
	if len(starts) == 0 {
		return nil, fail(base, CodeGIFTNoAnswers)
	}
	if pre := strings.TrimSpace(s[:starts[0]]); pre != "" {
		return nil, fail(base, CodeGIFTTextBeforeAnswers, pre)
	}
	var list []giftAnswer
	for k, st := range starts {
		end := len(s)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		a := giftAnswer{mark: s[st], off: base + st}
		body := strings.TrimLeft(s[st+1:end], " \t\n")
		if strings.HasPrefix(body, "%") {
			closing := strings.IndexByte(body[1:], '%')
			if closing < 0 {
				return nil, fail(a.off, CodeGIFTWeightUnclosed)
			}
			w, err := strconv.ParseFloat(strings.TrimSpace(body[1:1+closing]), 64)
			if err != nil || w < -100 || w > 100 {
				return nil, fail(a.off, CodeGIFTWeight, body[1:1+closing])
			}
			a.weight, a.weighted = roundFraction(w/100), true
			body = body[closing+2:]
		}
		parts := splitUnescaped(body, '#')
		a.text = parts[0]
		if len(parts) > 1 {
			a.feedback = unescapeGIFT(strings.Join(parts[1:], "#"))
		}
		if !strings.Contains(a.text, "->") {
			a.text = unescapeGIFT(a.text)
		} else {
			a.text = strings.TrimSpace(a.text)
		}
		list = append(list, a)
	}
	return list, nil
}

// parseNumeric reads "v", "v:tolerance" or "min..max".
func parseNumeric(s string) (Numeric, bool) {
	s = strings.TrimSpace(unescapeGIFT(s))
	num := func(x string) (float64, bool) {
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && f == f && f < 1e300 && f > -1e300
	}
	if lo, hi, ok := strings.Cut(s, ".."); ok {
		a, ok1 := num(lo)
		b, ok2 := num(hi)
		if !ok1 || !ok2 || a > b {
			return Numeric{}, false
		}
		return Numeric{Value: (a + b) / 2, Tolerance: (b - a) / 2}, true
	}
	v, tol, hasTol := strings.Cut(s, ":")
	val, ok := num(v)
	if !ok {
		return Numeric{}, false
	}
	n := Numeric{Value: val}
	if hasTol {
		t, ok := num(tol)
		if !ok || t < 0 {
			return Numeric{}, false
		}
		n.Tolerance = t
	}
	return n, true
}
