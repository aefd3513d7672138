package courses

import (
	"errors"
	"slices"
	"testing"

	"hoctap/accounts"
	"hoctap/internal/errs"
)

func lessonIDs(c Course) []string {
	var out []string
	for _, l := range outlineLessons(c.Modules) {
		out = append(out, l.ID)
	}
	return out
}

func TestCourseRoles(t *testing.T) {
	e := newEnv(t)
	in := CourseInput{Code: "LLCT-01", Title: "Lý luận chính trị", Category: CategoryPoliticalTheory}
	// Who may create.
	for _, p := range []accounts.Principal{e.trainer, e.unitAdmin, e.learner} {
		_, err := e.svc.CreateCourse(e.ctx, p, in)
		wantErr(t, err, errs.ErrForbidden)
	}
	c, err := e.svc.CreateCourse(e.ctx, e.lecturer, in)
	wantErr(t, err, nil)
	if c.Status != StatusDraft || c.OwnerID != e.lecturer.User.ID {
		t.Fatalf("created %+v", c)
	}
	_, err = e.svc.CreateCourse(e.ctx, e.admin, CourseInput{Code: "QLNN-01", Title: "Quản lý nhà nước", Category: CategoryStateManagement})
	wantErr(t, err, nil)
	_, err = e.svc.CreateCourse(e.ctx, e.lecturer2, CourseInput{Code: "llct-01", Title: "x", Category: CategoryPoliticalTheory})
	wantErr(t, err, errs.ErrConflict) // codes compare case-insensitively

	// A draft is seen only by its owner and admins.
	for _, p := range []accounts.Principal{e.lecturer2, e.trainer, e.unitAdmin, e.learner} {
		_, err := e.svc.GetCourse(e.ctx, p, c.ID)
		wantErr(t, err, errs.ErrNotFound)
		_, err = e.svc.AddModule(e.ctx, p, c.ID, ModuleInput{Title: "x"})
		wantErr(t, err, errs.ErrNotFound)
	}
	m, err := e.svc.AddModule(e.ctx, e.lecturer, c.ID, ModuleInput{Title: "Chương 1"})
	wantErr(t, err, nil)
	_, err = e.svc.AddModule(e.ctx, e.admin, c.ID, ModuleInput{Title: "Chương 2"})
	wantErr(t, err, nil)
	l, err := e.svc.AddLesson(e.ctx, e.lecturer, c.ID, m.ID, LessonInput{Title: "Video", Kind: KindVideo, MediaID: "m", DurationS: 60})
	wantErr(t, err, nil)
	_, err = e.svc.PublishCourse(e.ctx, e.lecturer, c.ID)
	wantErr(t, err, nil)

	// Published: everyone sees it; only the owner and admins change it.
	for _, p := range []accounts.Principal{e.lecturer2, e.trainer, e.unitAdmin, e.learner} {
		v, err := e.svc.GetCourse(e.ctx, p, c.ID)
		wantErr(t, err, nil)
		if v.Editable || len(v.Modules) != 2 {
			t.Fatalf("view for %v: %+v", p.User.Roles, v)
		}
		title := "x"
		_, err = e.svc.UpdateCourse(e.ctx, p, c.ID, CoursePatch{Title: &title})
		wantErr(t, err, errs.ErrForbidden)
		_, err = e.svc.AddModule(e.ctx, p, c.ID, ModuleInput{Title: "x"})
		wantErr(t, err, errs.ErrForbidden)
		_, err = e.svc.UpdateModule(e.ctx, p, c.ID, m.ID, ModuleInput{Title: "x"})
		wantErr(t, err, errs.ErrForbidden)
		wantErr(t, e.svc.DeleteModule(e.ctx, p, c.ID, m.ID), errs.ErrForbidden)
		_, err = e.svc.MoveModule(e.ctx, p, c.ID, m.ID, 1)
		wantErr(t, err, errs.ErrForbidden)
		_, err = e.svc.AddLesson(e.ctx, p, c.ID, m.ID, LessonInput{Title: "x", Kind: KindText, Body: "x"})
		wantErr(t, err, errs.ErrForbidden)
		_, err = e.svc.UpdateLesson(e.ctx, p, c.ID, l.ID, LessonPatch{Title: &title})
		wantErr(t, err, errs.ErrForbidden)
		_, err = e.svc.MoveLesson(e.ctx, p, c.ID, l.ID, "", 0)
		wantErr(t, err, errs.ErrForbidden)
		wantErr(t, e.svc.DeleteLesson(e.ctx, p, c.ID, l.ID), errs.ErrForbidden)
		_, err = e.svc.PublishCourse(e.ctx, p, c.ID)
		wantErr(t, err, errs.ErrForbidden)
		_, err = e.svc.ArchiveCourse(e.ctx, p, c.ID)
		wantErr(t, err, errs.ErrForbidden)
	}
	for _, p := range []accounts.Principal{e.lecturer, e.admin} {
		v, err := e.svc.GetCourse(e.ctx, p, c.ID)
		wantErr(t, err, nil)
		if !v.Editable {
			t.Fatal("owner/admin view not editable")
		}
		title := "Lý luận chính trị (" + string(p.User.Roles[0]) + ")"
		_, err = e.svc.UpdateCourse(e.ctx, p, c.ID, CoursePatch{Title: &title})
		wantErr(t, err, nil)
	}
	// Archived: out of learners' sight, still visible to staff.
	_, err = e.svc.ArchiveCourse(e.ctx, e.lecturer, c.ID)
	wantErr(t, err, nil)
	_, err = e.svc.GetCourse(e.ctx, e.learner, c.ID)
	wantErr(t, err, errs.ErrNotFound)
	_, err = e.svc.GetCourse(e.ctx, e.trainer, c.ID)
	wantErr(t, err, nil)
	// Publishing again restores it, without a new revision.
	back, err := e.svc.PublishCourse(e.ctx, e.lecturer, c.ID)
	wantErr(t, err, nil)
	if back.Status != StatusPublished || back.Revision != 1 {
		t.Fatalf("restored %+v", back)
	}
}

func TestCourseInputIsValidated(t *testing.T) {
	e := newEnv(t)
	bad := []CourseInput{
		{Code: "", Title: "x", Category: CategoryLanguages},
		{Code: "has space", Title: "x", Category: CategoryLanguages},
		{Code: "A1", Title: " ", Category: CategoryLanguages},
		{Code: "A1", Title: "x", Category: "khac"},
	}
	for _, in := range bad {
		_, err := e.svc.CreateCourse(e.ctx, e.lecturer, in)
		wantErr(t, err, errs.ErrInvalid)
	}
	c, err := e.svc.CreateCourse(e.ctx, e.lecturer, CourseInput{Code: "A1", Title: "Tiếng Anh", Category: CategoryLanguages})
	wantErr(t, err, nil)
	m, err := e.svc.AddModule(e.ctx, e.lecturer, c.ID, ModuleInput{Title: "M"})
	wantErr(t, err, nil)
	badLessons := []LessonInput{
		{Title: "", Kind: KindText, Body: "x"},
		{Title: "x", Kind: "audio", MediaID: "m"},
		{Title: "x", Kind: KindVideo, MediaID: "m"},             // no duration
		{Title: "x", Kind: KindVideo, DurationS: 10},            // no media
		{Title: "x", Kind: KindPDF, MediaID: "m"},               // no pages
		{Title: "x", Kind: KindSlides, MediaID: "m", Pages: -1}, // negative pages
		{Title: "x", Kind: KindText},                            // nothing to read
		{Title: "x", Kind: KindText, Body: "x", DurationS: 5},   // duration on text
		{Title: "x", Kind: KindVideo, MediaID: "m", DurationS: 5, Pages: 3},
	}
	for _, in := range badLessons {
		_, err := e.svc.AddLesson(e.ctx, e.lecturer, c.ID, m.ID, in)
		wantErr(t, err, errs.ErrInvalid)
	}
	_, err = e.svc.AddLesson(e.ctx, e.lecturer, c.ID, "nope", LessonInput{Title: "x", Kind: KindText, Body: "x"})
	wantErr(t, err, errs.ErrNotFound)
	got, err := e.svc.GetCourse(e.ctx, e.lecturer, c.ID)
	wantErr(t, err, nil)
	if n := len(outlineLessons(got.Modules)); n != 0 {
		t.Fatalf("%d lessons stored from bad input", n)
	}
	// A course without lessons cannot be published.
	_, err = e.svc.PublishCourse(e.ctx, e.lecturer, c.ID)
	wantErr(t, err, errs.ErrConflict)
	// Nor can a class be opened for an unpublished course.
	_, err = e.svc.CreateClass(e.ctx, e.admin, c.ID, ClassInput{Name: "L", StartsAt: t0, EndsAt: t0.AddDate(0, 1, 0)})
	wantErr(t, err, errs.ErrConflict)
}

func TestOutlineOrdering(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("ORD")
	// Move the text lesson (module 2) to the front of module 1.
	got, err := e.svc.MoveLesson(e.ctx, e.lecturer, c.ID, c.text.ID, c.mod1.ID, 0)
	wantErr(t, err, nil)
	if want := []string{c.text.ID, c.video.ID, c.pdf.ID}; !slices.Equal(lessonIDs(got), want) {
		t.Fatalf("lessons %v, want %v", lessonIDs(got), want)
	}
	// Within a module, to the end.
	got, err = e.svc.MoveLesson(e.ctx, e.lecturer, c.ID, c.text.ID, "", 2)
	wantErr(t, err, nil)
	if want := []string{c.video.ID, c.pdf.ID, c.text.ID}; !slices.Equal(lessonIDs(got), want) {
		t.Fatalf("lessons %v, want %v", lessonIDs(got), want)
	}
	got, err = e.svc.MoveModule(e.ctx, e.lecturer, c.ID, c.mod2.ID, 0)
	wantErr(t, err, nil)
	if got.Modules[0].ID != c.mod2.ID || len(got.Modules[0].Lessons) != 0 {
		t.Fatalf("modules %+v", got.Modules)
	}
	// Positions out of range are refused and change nothing.
	_, err = e.svc.MoveModule(e.ctx, e.lecturer, c.ID, c.mod2.ID, 2)
	wantErr(t, err, errs.ErrInvalid)
	_, err = e.svc.MoveLesson(e.ctx, e.lecturer, c.ID, c.text.ID, c.mod2.ID, 1)
	wantErr(t, err, errs.ErrInvalid)
	_, err = e.svc.MoveLesson(e.ctx, e.lecturer, c.ID, c.text.ID, c.mod2.ID, -1)
	wantErr(t, err, errs.ErrInvalid)
	v, err := e.svc.GetCourse(e.ctx, e.lecturer, c.ID)
	wantErr(t, err, nil)
	if v.Modules[0].ID != c.mod2.ID || !slices.Equal(lessonIDs(v.Course), []string{c.video.ID, c.pdf.ID, c.text.ID}) {
		t.Fatalf("outline changed by refused moves: %+v", v.Modules)
	}
	// Learners still see revision 1's order until the next publish.
	lv, err := e.svc.GetCourse(e.ctx, e.learner, c.ID)
	wantErr(t, err, nil)
	if lv.OutlineRevision != 1 || lv.Modules[0].ID != c.mod1.ID {
		t.Fatalf("learner view %+v", lv)
	}
	// Rename, delete.
	_, err = e.svc.UpdateModule(e.ctx, e.lecturer, c.ID, c.mod2.ID, ModuleInput{Title: "Phần mở đầu"})
	wantErr(t, err, nil)
	title := "Bài giảng chính"
	l, err := e.svc.UpdateLesson(e.ctx, e.lecturer, c.ID, c.video.ID, LessonPatch{Title: &title})
	wantErr(t, err, nil)
	if l.ID != c.video.ID || l.Title != title || l.DurationS != 600 {
		t.Fatalf("updated lesson %+v", l)
	}
	pages := 0
	_, err = e.svc.UpdateLesson(e.ctx, e.lecturer, c.ID, c.pdf.ID, LessonPatch{Pages: &pages})
	wantErr(t, err, errs.ErrInvalid)
	wantErr(t, e.svc.DeleteLesson(e.ctx, e.lecturer, c.ID, c.pdf.ID), nil)
	wantErr(t, e.svc.DeleteLesson(e.ctx, e.lecturer, c.ID, c.pdf.ID), errs.ErrNotFound)
	wantErr(t, e.svc.DeleteModule(e.ctx, e.lecturer, c.ID, c.mod2.ID), nil)
	v, err = e.svc.GetCourse(e.ctx, e.lecturer, c.ID)
	wantErr(t, err, nil)
	if len(v.Modules) != 1 || !slices.Equal(lessonIDs(v.Course), []string{c.video.ID, c.text.ID}) || !v.DraftChanges {
		t.Fatalf("outline %+v", v)
	}
	// Publishing makes revision 2; revision 1 is unchanged.
	p, err := e.svc.PublishCourse(e.ctx, e.lecturer, c.ID)
	wantErr(t, err, nil)
	if p.Revision != 2 || p.DraftChanges {
		t.Fatalf("published %+v", p)
	}
	r1, err := e.svc.GetRevision(e.ctx, e.trainer, c.ID, 1)
	wantErr(t, err, nil)
	if len(r1.Lessons()) != 3 || r1.Modules[0].Lessons[0].Title != "Bài giảng" {
		t.Fatalf("revision 1 changed: %+v", r1)
	}
	r2, err := e.svc.GetRevision(e.ctx, e.trainer, c.ID, 2)
	wantErr(t, err, nil)
	if len(r2.Lessons()) != 2 || r2.Lessons()[0].ID != c.video.ID {
		t.Fatalf("revision 2: %+v", r2)
	}
	// A learner not in a class of revision 1 cannot read it; the latest they can.
	_, err = e.svc.GetRevision(e.ctx, e.learner, c.ID, 1)
	wantErr(t, err, errs.ErrNotFound)
	_, err = e.svc.GetRevision(e.ctx, e.learner, c.ID, 2)
	wantErr(t, err, nil)
	// Publishing with no changes is a no-op.
	again, err := e.svc.PublishCourse(e.ctx, e.lecturer, c.ID)
	wantErr(t, err, nil)
	if again.Revision != 2 {
		t.Fatalf("republished: %+v", again)
	}
}

func TestCatalogSearch(t *testing.T) {
	e := newEnv(t)
	mk := func(p accounts.Principal, code, title string, cat Category, publish bool) Course {
		c, err := e.svc.CreateCourse(e.ctx, p, CourseInput{Code: code, Title: title, Category: cat})
		e.must(err)
		if publish {
			m, err := e.svc.AddModule(e.ctx, p, c.ID, ModuleInput{Title: "M"})
			e.must(err)
			_, err = e.svc.AddLesson(e.ctx, p, c.ID, m.ID, LessonInput{Title: "T", Kind: KindText, Body: "x"})
			e.must(err)
			c, err = e.svc.PublishCourse(e.ctx, p, c.ID)
			e.must(err)
		}
		return c
	}
	a := mk(e.lecturer, "LLCT1", "Lý luận chính trị cơ bản", CategoryPoliticalTheory, true)
	b := mk(e.lecturer, "LLCT2", "Ly luan chinh tri (tai lieu khong dau)", CategoryPoliticalTheory, true)
	d := mk(e.lecturer, "LLCT3", "Lý luận chính trị nâng cao", CategoryPoliticalTheory, false) // draft
	k := mk(e.lecturer2, "KNS1", "Kỹ năng số cho cán bộ", CategoryDigitalSkills, true)
	x := mk(e.lecturer2, "KNS2", "Chuyển đổi số", CategoryDigitalSkills, false) // lecturer2's draft
	ids := func(p accounts.Page[CourseSummary]) []string {
		var out []string
		for _, c := range p.Items {
			out = append(out, c.ID)
		}
		return out
	}
	// Learners: published only, accents and case ignored, exact accents first.
	got, err := e.svc.ListCourses(e.ctx, e.learner, CourseFilter{Q: "LÝ LUẬN chính trị"})
	wantErr(t, err, nil)
	if want := []string{a.ID, b.ID}; !slices.Equal(ids(got), want) || got.Total != 2 {
		t.Fatalf("learner search %v, want %v", ids(got), want)
	}
	got, err = e.svc.ListCourses(e.ctx, e.learner, CourseFilter{Q: "ly luan chinh tri"})
	wantErr(t, err, nil)
	if want := []string{b.ID, a.ID}; !slices.Equal(ids(got), want) {
		t.Fatalf("unaccented search %v, want %v", ids(got), want)
	}
	got, err = e.svc.ListCourses(e.ctx, e.learner, CourseFilter{Status: StatusDraft})
	wantErr(t, err, nil)
	if got.Total != 0 {
		t.Fatalf("learner sees drafts: %v", ids(got))
	}
	// The category label is searchable too: "kỹ năng số" finds the digital-skills course.
	got, err = e.svc.ListCourses(e.ctx, e.learner, CourseFilter{Q: "ky nang so"})
	wantErr(t, err, nil)
	if !slices.Equal(ids(got), []string{k.ID}) {
		t.Fatalf("category search %v", ids(got))
	}
	// A lecturer sees their own drafts, not other lecturers'.
	got, err = e.svc.ListCourses(e.ctx, e.lecturer, CourseFilter{Status: StatusDraft})
	wantErr(t, err, nil)
	if !slices.Equal(ids(got), []string{d.ID}) {
		t.Fatalf("lecturer drafts %v", ids(got))
	}
	got, err = e.svc.ListCourses(e.ctx, e.admin, CourseFilter{Status: StatusDraft})
	wantErr(t, err, nil)
	if got.Total != 2 || !slices.Contains(ids(got), x.ID) {
		t.Fatalf("admin drafts %v", ids(got))
	}
	got, err = e.svc.ListCourses(e.ctx, e.admin, CourseFilter{Category: CategoryDigitalSkills})
	wantErr(t, err, nil)
	if got.Total != 2 {
		t.Fatalf("category filter %v", ids(got))
	}
	// Pages.
	p1, err := e.svc.ListCourses(e.ctx, e.admin, CourseFilter{Limit: 2})
	wantErr(t, err, nil)
	p2, err := e.svc.ListCourses(e.ctx, e.admin, CourseFilter{Limit: 2, Offset: 2})
	wantErr(t, err, nil)
	p3, err := e.svc.ListCourses(e.ctx, e.admin, CourseFilter{Limit: 2, Offset: 4})
	wantErr(t, err, nil)
	all := slices.Concat(ids(p1), ids(p2), ids(p3))
	if p1.Total != 5 || len(all) != 5 || len(slices.Compact(slices.Sorted(slices.Values(all)))) != 5 {
		t.Fatalf("pages %v %v %v", ids(p1), ids(p2), ids(p3))
	}
	// Regular-expression characters are taken literally.
	got, err = e.svc.ListCourses(e.ctx, e.admin, CourseFilter{Q: "(tai"})
	wantErr(t, err, nil)
	if !slices.Equal(ids(got), []string{b.ID}) {
		t.Fatalf("literal search %v", ids(got))
	}
	for _, f := range []CourseFilter{{Category: "x"}, {Status: "x"}, {Limit: 501}, {Offset: -1}} {
		_, err := e.svc.ListCourses(e.ctx, e.admin, f)
		if !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("filter %+v: %v", f, err)
		}
	}
}
