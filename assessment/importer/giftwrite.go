package importer

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ErrNoGIFTForm is wrapped by WriteGIFT for a question GIFT cannot express (ordering, and
// short answers that must match case, which GIFT has no switch for).
var ErrNoGIFTForm = fmt.Errorf("question type has no GIFT form: export as Moodle XML")

// WriteGIFT writes questions as GIFT that ParseGIFT (and Moodle) read back as the same
// questions. Tags and non-default points are written as `// [tag:…] [points:…]` comment
// markers. It returns an error wrapping ErrNoGIFTForm, and writes nothing, when a question
// cannot be expressed in GIFT.
func WriteGIFT(w io.Writer, qs []Question) error {
	var b bytes.Buffer
	category := ""
	for i := range qs {
		q := &qs[i]
		if q.Type == Ordering || (q.Type == ShortAnswer && q.CaseSensitive) {
			return fmt.Errorf("importer: question %d (%q, %s): %w", i+1, q.Name, q.Type, ErrNoGIFTForm)
		}
		if q.Category != category {
			category = q.Category
			fmt.Fprintf(&b, "$CATEGORY: $course$/top/%s\n\n", category)
		}
		var meta []string
		for _, t := range q.Tags {
			meta = append(meta, "[tag:"+strings.ReplaceAll(strings.ReplaceAll(t, "]", ""), "\n", " ")+"]")
		}
		if q.Points != 1 {
			meta = append(meta, "[points:"+strconv.FormatFloat(q.Points, 'f', -1, 64)+"]")
		}
		if len(meta) > 0 {
			b.WriteString("// " + strings.Join(meta, " ") + "\n")
		}
		text := escapeGIFT(q.Text)
		if q.Name != "" || strings.HasPrefix(text, "//") || strings.HasPrefix(text, "$") || strings.HasPrefix(text, "[") {
			b.WriteString("::" + escapeGIFT(q.Name) + "::")
		}
		if q.Format != "" {
			b.WriteString("[" + q.Format + "]")
		}
		b.WriteString(text)
		switch q.Type {
		case Description:
			b.WriteString("\n\n")
			continue
		case Essay:
			b.WriteString("{")
		case TrueFalse:
			right, wrong := q.TrueFeedback, q.FalseFeedback
			key := "TRUE"
			if !q.Correct {
				key, right, wrong = "FALSE", q.FalseFeedback, q.TrueFeedback
			}
			b.WriteString("{" + key)
			if wrong != "" || right != "" {
				b.WriteString("#" + escapeGIFT(wrong))
			}
			if right != "" {
				b.WriteString("#" + escapeGIFT(right))
			}
		case Single, Multiple:
			b.WriteString("{\n")
			for _, c := range q.Choices {
				switch {
				case q.Type == Single && c.Fraction == 1:
					b.WriteString("\t=")
				case c.Fraction == 0:
					b.WriteString("\t~")
				default:
					b.WriteString("\t~" + percent(c.Fraction))
				}
				b.WriteString(escapeGIFT(c.Text) + feedback(c.Feedback) + "\n")
			}
		case ShortAnswer:
			b.WriteString("{\n")
			for _, a := range q.Answers {
				b.WriteString("\t=")
				if a.Fraction != 1 {
					b.WriteString(percent(a.Fraction))
				}
				b.WriteString(escapeGIFT(a.Text) + feedback(a.Feedback) + "\n")
			}
		case Numerical:
			b.WriteString("{#\n")
			for _, n := range q.Numeric {
				b.WriteString("\t=")
				if n.Fraction != 1 {
					b.WriteString(percent(n.Fraction))
				}
				b.WriteString(strconv.FormatFloat(n.Value, 'g', -1, 64) + ":" + strconv.FormatFloat(n.Tolerance, 'g', -1, 64) + feedback(n.Feedback) + "\n")
			}
		case Matching:
			b.WriteString("{\n")
			for _, p := range q.Pairs {
				if strings.Contains(p.Left, "->") || strings.Contains(p.Right, "->") {
					return fmt.Errorf("importer: question %d (%q): a matching pair containing \"->\": %w", i+1, q.Name, ErrNoGIFTForm)
				}
				b.WriteString("\t=" + escapeGIFT(p.Left) + " -> " + escapeGIFT(p.Right) + "\n")
			}
		default:
			return fmt.Errorf("importer: question %d (%q) has unknown type %q", i+1, q.Name, q.Type)
		}
		if q.Feedback != "" {
			b.WriteString("\t####" + escapeGIFT(q.Feedback) + "\n")
		}
		b.WriteString("}\n\n")
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("importer: write GIFT: %w", err)
	}
	return nil
}

func percent(f float64) string {
	return "%" + strconv.FormatFloat(math.Round(f*1e7)/1e5, 'f', -1, 64) + "%"
}

func feedback(s string) string {
	if s == "" {
		return ""
	}
	return "#" + escapeGIFT(s)
}

var giftEscaper = strings.NewReplacer(`\`, `\\`, `~`, `\~`, `=`, `\=`, `#`, `\#`, `{`, `\{`, `}`, `\}`, `:`, `\:`, "\n", `\n`)

// escapeGIFT escapes GIFT's special characters and turns line breaks into \n.
func escapeGIFT(s string) string { return giftEscaper.Replace(s) }
