package server

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"hoctap/assessment"
	"hoctap/courses"
	"hoctap/internal/errs"
	"hoctap/media"
	"hoctap/reports"
)

// decodeTargets are the types handlers decode request bodies into; TestDecodeTargetsCover
// checks the list against the handlers' source, so a new body type must be added here.
var decodeTargets = []any{
	loginBody{}, updateMeBody{}, unitBody{}, unitPatchBody{}, userBody{}, userPatchBody{},
	shareBody{}, assessment.QuestionInput{}, assessment.QuizInput{}, accommodationBody{},
	answersBody{}, essayGradeBody{},
	courses.CourseInput{}, courses.CoursePatch{}, courses.ModuleInput{}, moveBody{},
	courses.LessonInput{}, courses.LessonPatch{}, courses.ClassInput{}, revisionBody{},
	enrolBody{}, heartbeatBody{}, liveSessionBody{},
	media.NewUpload{}, completeBody{},
	reports.NewTarget{}, reports.PlanInput{}, revokeBody{},
}

var decodeVar = regexp.MustCompile(`var b ([A-Za-z0-9_.]+)\n(?:[^\n]*\n)?\s*if err := s\.decodeJSON\(c, &b\)`)

func TestDecodeTargetsCover(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, v := range decodeTargets {
		have = append(have, strings.TrimPrefix(reflect.TypeOf(v).String(), "server."))
	}
	found := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decodeVar.FindAllStringSubmatch(string(src), -1) {
			found++
			if !slices.Contains(have, m[1]) {
				t.Errorf("%s decodes a JSON body into %s: add it to decodeTargets", name, m[1])
			}
		}
	}
	// Routes served by withBody and byIDWithBody list their body types as they are built.
	for _, bt := range newTestServer(t).bodyTypes {
		found++
		if name := strings.TrimPrefix(bt.String(), "server."); !slices.Contains(have, name) {
			t.Errorf("a route decodes a JSON body into %s: add it to decodeTargets", name)
		}
	}
	if found < len(decodeTargets) {
		t.Errorf("found only %d JSON body decodings in the handlers; has the pattern changed?", found)
	}
}

// FuzzDecodeJSONBodies sends every input to every body type: each either decodes or gives
// an invalid error (never a panic, never another kind of error).
func FuzzDecodeJSONBodies(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"username":"a","password":"b"}`, `{"roles":["learner"],"admin_unit_ids":[]}`,
		`{"answers":{"q1":"x","q2":["a","b"],"q3":{"a":"b"},"q4":1.5,"q5":true,"q6":null}}`,
		`{"items":[{"question_id":"q","points":1},{"random":{"bank":"b","tags":["t"],"count":3}}]}`,
		`{"watched":[[0,10],[5]],"pages_viewed":[1,2]}`, `{"starts_at":"2026-01-01T00:00:00Z"}`,
		`{"starts_at":"yesterday"}`, `{"due":"2025-12-31","percent":100}`, `{"parts":[{"number":1,"etag":"x"}]}`,
		`{"position":1e400}`, `{"score":-0}`, `[]`, `null`, `"x"`, `{"a":1}`, `{} {}`, `{"title":"\ud800"}`,
		`{"title":"<script>alert(1)</script>"}`, strings.Repeat(`[`, 20000), `{"choices":[{"id":"a","text":"b","correct":true}]}`,
		`{"accepted":[{"text":"x","fraction":0.5}]}`, `{"accepted":["x"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range decodeTargets {
			dst := reflect.New(reflect.TypeOf(v)).Interface()
			if err := decodeStrict(data, dst); err != nil && errs.Code(err) != "invalid" {
				t.Fatalf("%T: %q gave %v (%s)", v, data, err, errs.Code(err))
			}
		}
	})
}
