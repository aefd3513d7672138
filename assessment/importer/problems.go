package importer

import (
	"fmt"
	"slices"
	"strings"
)

// Code names a kind of problem found in an imported file. With a LineError's Args it is
// the machine-readable form of the error: pages show it in the reader's language from
// their own catalogues, while Message keeps the English text for logs and API clients.
type Code string

// The problems the parsers report. The comment after each names its Args in order.
const (
	CodeNotUTF8       Code = "not_utf8"
	CodeFileTooLarge  Code = "file_too_large" // the limit in bytes
	CodeUnknownFormat Code = "unknown_format" // the format given
	// CodeNoQuestions and CodeQuestionInvalid are reported by the assessment package,
	// which stores what the parsers read.
	CodeNoQuestions     Code = "no_questions"     // the format
	CodeQuestionInvalid Code = "question_invalid" // the fields refused, comma separated

	CodeGIFTPoints            Code = "gift_points" // the value
	CodeGIFTTitleUnclosed     Code = "gift_title_unclosed"
	CodeGIFTBraceUnopened     Code = "gift_brace_unopened"
	CodeGIFTBlockUnclosed     Code = "gift_block_unclosed"
	CodeGIFTBraceNested       Code = "gift_brace_nested"
	CodeGIFTTwoBlocks         Code = "gift_two_blocks"
	CodeGIFTNumerical         Code = "gift_numerical" // the answer
	CodeGIFTNumericalMark     Code = "gift_numerical_mark"
	CodeGIFTAnswerUnknown     Code = "gift_answer_unknown" // the answer
	CodeGIFTTrueFalseFeedback Code = "gift_true_false_feedbacks"
	CodeGIFTAnswerEmpty       Code = "gift_answer_empty"
	CodeGIFTMatchingSyntax    Code = "gift_matching_syntax"
	CodeGIFTNoAnswers         Code = "gift_no_answers"
	CodeGIFTTextBeforeAnswers Code = "gift_text_before_answers" // the text
	CodeGIFTWeightUnclosed    Code = "gift_weight_unclosed"
	CodeGIFTWeight            Code = "gift_weight" // the weight

	CodeAikenAnswerWithoutQuestion Code = "aiken_answer_without_question"
	CodeAikenChoiceLetter          Code = "aiken_choice_letter"    // the letter, its line, the letter expected
	CodeAikenNoAnswerBefore        Code = "aiken_no_answer_before" // the line of the next question
	CodeAikenNoAnswerAtEnd         Code = "aiken_no_answer_at_end"
	CodeAikenNoText                Code = "aiken_no_text"
	CodeAikenFewChoices            Code = "aiken_few_choices"
	CodeAikenAnswerNone            Code = "aiken_answer_none"
	CodeAikenAnswerUnknown         Code = "aiken_answer_unknown" // the letter
	CodeAikenAnswerTwice           Code = "aiken_answer_twice"   // the letter

	CodeXMLRoot            Code = "xml_root" // the root element's name
	CodeXMLCategoryEmpty   Code = "xml_category_empty"
	CodeXMLNotMoodle       Code = "xml_not_moodle"
	CodeXMLSyntax          Code = "xml_syntax"            // the XML parser's message, in English
	CodeXMLError           Code = "xml_error"             // the XML parser's message, in English
	CodeXMLDefaultGrade    Code = "xml_default_grade"     // the value
	CodeXMLFraction        Code = "xml_fraction"          // the value
	CodeXMLTrueFalseAnswer Code = "xml_true_false_answer" // the answer
	CodeXMLTrueFalseNoKey  Code = "xml_true_false_no_key"
	CodeXMLNumerical       Code = "xml_numerical" // the answer
	CodeXMLTolerance       Code = "xml_tolerance" // the tolerance
	CodeXMLNoType          Code = "xml_no_type"
	CodeXMLTypeUnsupported Code = "xml_type_unsupported" // the type

	CodeTextEmpty          Code = "text_empty"
	CodePointsInvalid      Code = "points_invalid"
	CodeWeightRange        Code = "weight_range"
	CodeSingleFewChoices   Code = "single_few_choices"
	CodeSingleNoCorrect    Code = "single_no_correct"
	CodeMultipleFewChoices Code = "multiple_few_choices"
	CodeMultipleNoPositive Code = "multiple_no_positive"
	CodeOrderingFewItems   Code = "ordering_few_items"
	CodeShortNoAnswers     Code = "short_no_answers"
	CodeShortAnswerEmpty   Code = "short_answer_empty"
	CodeShortNoPositive    Code = "short_no_positive"
	CodeNumericalNone      Code = "numerical_none"
	CodeNumericalInvalid   Code = "numerical_invalid"
	CodeMatchingNoRight    Code = "matching_no_right"
	CodeMatchingFewPairs   Code = "matching_few_pairs"
	CodeTypeUnknown        Code = "type_unknown" // the type
)

// english holds each code's message in English: fmt verbs %s and %q, one per Arg.
var english = map[Code]string{
	CodeNotUTF8:         "file is not valid UTF-8",
	CodeFileTooLarge:    "file is larger than %s bytes",
	CodeUnknownFormat:   "unknown format %q (use gift, aiken or moodle_xml)",
	CodeNoQuestions:     "the file holds no %s questions",
	CodeQuestionInvalid: "the question is invalid: %s",

	CodeGIFTPoints:            "points %q is not a number between 0 and 1000000",
	CodeGIFTTitleUnclosed:     "the title has no closing ::",
	CodeGIFTBraceUnopened:     "} without an opening {",
	CodeGIFTBlockUnclosed:     "the answer block { is not closed with }",
	CodeGIFTBraceNested:       "{ inside an answer block (escape it as \\{)",
	CodeGIFTTwoBlocks:         "a question may have only one answer block",
	CodeGIFTNumerical:         "numerical answer %q is not a number, value:tolerance or min..max",
	CodeGIFTNumericalMark:     "numerical answers start with =",
	CodeGIFTAnswerUnknown:     "answer %q is not T, F, TRUE, FALSE, a number (#…) or answers starting with = or ~",
	CodeGIFTTrueFalseFeedback: "a true/false answer takes at most two feedbacks",
	CodeGIFTAnswerEmpty:       "an answer is empty",
	CodeGIFTMatchingSyntax:    "matching answers are written =left -> right",
	CodeGIFTNoAnswers:         "no answers: answers start with = or ~",
	CodeGIFTTextBeforeAnswers: "text %q before the first = or ~ answer",
	CodeGIFTWeightUnclosed:    "weight %%…%% is not closed",
	CodeGIFTWeight:            "weight %q is not a percentage between -100 and 100",

	CodeAikenAnswerWithoutQuestion: "ANSWER line without a question before it",
	CodeAikenChoiceLetter:          "choice %s on line %s should be %s",
	CodeAikenNoAnswerBefore:        "question has no ANSWER line (line %s starts another question)",
	CodeAikenNoAnswerAtEnd:         "question has no ANSWER line before the end of the file",
	CodeAikenNoText:                "question has no text",
	CodeAikenFewChoices:            "question needs at least two choices A., B., …",
	CodeAikenAnswerNone:            "ANSWER names no choice",
	CodeAikenAnswerUnknown:         "ANSWER %q is not one of the choices",
	CodeAikenAnswerTwice:           "ANSWER names %s twice",

	CodeXMLRoot:            "root element is <%s>, expected <quiz>",
	CodeXMLCategoryEmpty:   "category question without <category>",
	CodeXMLNotMoodle:       "no <quiz> element: not a Moodle XML file",
	CodeXMLSyntax:          "XML syntax error: %s",
	CodeXMLError:           "XML error: %s",
	CodeXMLDefaultGrade:    "defaultgrade %q is not a number between 0 and 1000000",
	CodeXMLFraction:        "answer fraction %q is not a percentage between -100 and 100",
	CodeXMLTrueFalseAnswer: "true/false answer %q is neither true nor false",
	CodeXMLTrueFalseNoKey:  "true/false question has no correct answer",
	CodeXMLNumerical:       "numerical answer %q is not a number",
	CodeXMLTolerance:       "tolerance %q is not a number",
	CodeXMLNoType:          "question has no type attribute",
	CodeXMLTypeUnsupported: "question type %q is not supported",

	CodeTextEmpty:          "question text is empty",
	CodePointsInvalid:      "points must be a non-negative number",
	CodeWeightRange:        "answer weights must be between -100%% and 100%%",
	CodeSingleFewChoices:   "a single-choice question needs at least two choices",
	CodeSingleNoCorrect:    "a single-choice question needs one fully correct choice",
	CodeMultipleFewChoices: "a multiple-answer question needs at least two choices",
	CodeMultipleNoPositive: "a multiple-answer question needs an answer with a positive weight",
	CodeOrderingFewItems:   "an ordering question needs at least two items",
	CodeShortNoAnswers:     "a short-answer question needs at least one accepted answer",
	CodeShortAnswerEmpty:   "an accepted answer is empty",
	CodeShortNoPositive:    "a short-answer question needs an answer with a positive weight",
	CodeNumericalNone:      "a numerical question needs at least one answer",
	CodeNumericalInvalid:   "numerical answers need a finite value and a non-negative tolerance",
	CodeMatchingNoRight:    "a matching pair has no right-hand side",
	CodeMatchingFewPairs:   "a matching question needs at least two pairs",
	CodeTypeUnknown:        "unknown question type %q",
}

// Codes returns every problem code, sorted, so that a page's catalogue can be checked
// to hold a message for each.
func Codes() []Code {
	out := make([]Code, 0, len(english))
	for c := range english {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// ArgCount is how many Args a LineError with this code carries.
func ArgCount(c Code) int {
	s := strings.ReplaceAll(english[c], "%%", "")
	return strings.Count(s, "%")
}

// Problem is what is wrong with a question, without where: a code and the values its
// message names. The zero Problem means nothing is wrong.
type Problem struct {
	Code Code
	Args []string
}

// problem makes a Problem; args are turned into text as fmt prints them.
func problem(code Code, args ...any) Problem {
	p := Problem{Code: code}
	for _, a := range args {
		p.Args = append(p.Args, fmt.Sprint(a))
	}
	return p
}

// Message is the problem in English, or "" for the zero Problem.
func (p Problem) Message() string {
	if p.Code == "" {
		return ""
	}
	args := make([]any, len(p.Args))
	for i, a := range p.Args {
		args[i] = a
	}
	return fmt.Sprintf(english[p.Code], args...)
}

// At places the problem on a line.
func (p Problem) At(line int) LineError {
	return LineError{Line: line, Code: p.Code, Args: p.Args, Message: p.Message()}
}

// lineError is the LineError for code with args on line.
func lineError(line int, code Code, args ...any) LineError {
	return problem(code, args...).At(line)
}
