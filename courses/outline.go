package courses

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/audit/trail"
	"hoctap/internal/database"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
	"hoctap/internal/textfold"
)

// Limits on an outline, so that a course document stays far below MongoDB's 16 MB.
const (
	maxModules       = 200
	maxLessons       = 2000
	maxOutlineBytes  = 8 << 20
	maxBodyBytes     = 200_000
	maxTitleRunes    = 300
	maxDescRunes     = 10_000
	maxVideoSeconds  = 24 * 3600
	maxPages         = 10_000
	maxMediaIDLength = 100
)

var codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$`)

// CourseInput is what a lecturer gives to create a course.
type CourseInput struct {
	Code        string   `json:"code"`
	Title       string   `json:"title"`
	Category    Category `json:"category"`
	Description string   `json:"description"`
}

// CoursePatch changes some of a course's catalog fields; nil fields stay as they are.
type CoursePatch struct {
	Code        *string   `json:"code"`
	Title       *string   `json:"title"`
	Category    *Category `json:"category"`
	Description *string   `json:"description"`
}

// ModuleInput is what a module is made from.
type ModuleInput struct {
	Title string `json:"title"`
}

// LessonInput is what a lesson is made from. MediaID names a stored media object; Pages is
// the page or slide count of a pdf or slides lesson, DurationS the length of a video.
type LessonInput struct {
	Title     string `json:"title"`
	Kind      Kind   `json:"kind"`
	MediaID   string `json:"media_id"`
	Body      string `json:"body"`
	DurationS int    `json:"duration_s"`
	Pages     int    `json:"pages"`
}

// LessonPatch changes some of a lesson's fields; nil fields stay as they are.
type LessonPatch struct {
	Title     *string `json:"title"`
	Kind      *Kind   `json:"kind"`
	MediaID   *string `json:"media_id"`
	Body      *string `json:"body"`
	DurationS *int    `json:"duration_s"`
	Pages     *int    `json:"pages"`
}

// CourseFilter selects courses from the catalog. Q ignores diacritics and case.
type CourseFilter struct {
	Q        string
	Category Category
	Status   Status
	Limit    int // 50 when zero, at most 500
	Offset   int
}

func validateCourse(f *errs.Fields, code, title string, cat Category, desc string) {
	f.Check(!codePattern.MatchString(code), "code", "must be 1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit")
	checkTitle(f, "title", title)
	f.Check(!cat.Valid(), "category", "must be one of ly_luan_chinh_tri, quan_ly_nha_nuoc, quoc_phong_an_ninh, ky_nang_vi_tri_viec_lam, ky_nang_so, ngoai_ngu")
	f.Check(!utf8.ValidString(desc) || utf8.RuneCountInString(desc) > maxDescRunes, "description", fmt.Sprintf("must be valid text of at most %d characters", maxDescRunes))
}

func checkTitle(f *errs.Fields, field, title string) {
	n := utf8.RuneCountInString(strings.TrimSpace(title))
	f.Check(!utf8.ValidString(title) || n == 0 || n > maxTitleRunes, field, fmt.Sprintf("is required, at most %d characters", maxTitleRunes))
}

func validateLesson(l Lesson) error {
	var f errs.Fields
	checkTitle(&f, "title", l.Title)
	f.Check(!l.Kind.Valid(), "kind", "must be video, pdf, slides or text")
	f.Check(len(l.MediaID) > maxMediaIDLength || !utf8.ValidString(l.MediaID), "media_id", "is not a media id")
	f.Check(len(l.Body) > maxBodyBytes || !utf8.ValidString(l.Body), "body", fmt.Sprintf("must be valid text of at most %d bytes", maxBodyBytes))
	f.Check(l.DurationS < 0, "duration_s", "must not be negative")
	f.Check(l.Pages < 0, "pages", "must not be negative")
	switch l.Kind {
	case KindVideo:
		f.Check(l.MediaID == "", "media_id", "a video lesson needs its video")
		f.Check(l.DurationS < 1 || l.DurationS > maxVideoSeconds, "duration_s", "a video lesson needs its length in seconds (1 to 86400)")
		f.Check(l.Pages != 0, "pages", "a video lesson has no pages")
	case KindPDF, KindSlides:
		f.Check(l.MediaID == "", "media_id", "a "+string(l.Kind)+" lesson needs its document")
		f.Check(l.Pages < 1 || l.Pages > maxPages, "pages", "a "+string(l.Kind)+" lesson needs its page count (1 to 10000)")
		f.Check(l.DurationS != 0, "duration_s", "only video lessons have a duration")
	case KindText:
		f.Check(strings.TrimSpace(l.Body) == "" && l.MediaID == "", "body", "a text lesson needs a body or a media_id")
		f.Check(l.DurationS != 0, "duration_s", "only video lessons have a duration")
		f.Check(l.Pages != 0, "pages", "a text lesson has no pages")
	}
	return f.Err()
}

func searchKeys(code, title string, cat Category, desc string) (fold, lower string) {
	all := strings.Join([]string{code, title, cat.Label("vi"), cat.Label("en"), desc}, " \n ")
	return textfold.Fold(all), textfold.Lower(all)
}

// canEdit reports whether p may change course c: its owner while a lecturer, or an admin.
func canEdit(p accounts.Principal, c *Course) bool {
	return isAdmin(p) || (p.Has(accounts.RoleLecturer) && c.OwnerID == p.User.ID)
}

// canSee reports whether p may see course c at all: drafts only their owner and admins,
// archived courses only staff, published courses everyone.
func canSee(p accounts.Principal, c *Course) bool {
	switch {
	case isAdmin(p) || c.OwnerID == p.User.ID:
		return true
	case c.Status == StatusPublished:
		return true
	case c.Status == StatusArchived:
		return p.User.IsStaff()
	}
	return false
}

func (s *Service) findCourse(ctx context.Context, id string) (Course, error) {
	var c Course
	err := s.courses.FindOne(ctx, bson.M{"_id": id}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return c, notFound("course " + id)
	}
	if err != nil {
		return c, fmt.Errorf("courses: read course: %w", dbErr(err))
	}
	return c, nil
}

// courseForEdit returns a course p may change: an error wrapping errs.ErrNotFound when p
// cannot see it, errs.ErrForbidden when p can see but not change it.
func (s *Service) courseForEdit(ctx context.Context, p accounts.Principal, id string) (Course, error) {
	c, err := s.findCourse(ctx, id)
	if err != nil {
		return c, err
	}
	if !canSee(p, &c) {
		return c, notFound("course " + id)
	}
	if !canEdit(p, &c) {
		return c, forbidden("only the course's lecturer or an admin may change it")
	}
	return c, nil
}

// CreateCourse creates a draft course owned by p, who must be a lecturer or an admin.
// Errors wrap errs.ErrForbidden (role), errs.ErrInvalid (fields) or errs.ErrConflict (the
// code is taken, compared case-insensitively).
func (s *Service) CreateCourse(ctx context.Context, p accounts.Principal, in CourseInput) (Course, error) {
	if !p.Has(accounts.RoleLecturer) && !isAdmin(p) {
		return Course{}, forbidden("only lecturers and admins create courses")
	}
	in.Code, in.Title, in.Description = strings.TrimSpace(in.Code), strings.TrimSpace(in.Title), strings.TrimSpace(in.Description)
	var f errs.Fields
	validateCourse(&f, in.Code, in.Title, in.Category, in.Description)
	if err := f.Err(); err != nil {
		return Course{}, err
	}
	now := s.now()
	c := Course{
		ID: ids.New(), Code: in.Code, Title: in.Title, Category: in.Category, Description: in.Description,
		OwnerID: p.User.ID, Status: StatusDraft, Modules: []Module{}, CreatedAt: now, UpdatedAt: now,
		CodeKey: strings.ToUpper(in.Code),
	}
	c.SearchFold, c.SearchLower = searchKeys(c.Code, c.Title, c.Category, c.Description)
	if _, err := s.courses.InsertOne(ctx, c); err != nil {
		if database.IsDuplicateKey(err) {
			return Course{}, fmt.Errorf("courses: code %q is taken: %w", in.Code, errs.ErrConflict)
		}
		return Course{}, fmt.Errorf("courses: create course: %w", dbErr(err))
	}
	return c, nil
}

// UpdateCourse changes a course's code, title, category or description; these catalog
// fields apply at once, also to a published course (the outline is what revisions keep).
// Errors wrap errs.ErrNotFound, errs.ErrForbidden, errs.ErrInvalid or errs.ErrConflict
// (code taken).
func (s *Service) UpdateCourse(ctx context.Context, p accounts.Principal, id string, patch CoursePatch) (Course, error) {
	c, err := s.courseForEdit(ctx, p, id)
	if err != nil {
		return Course{}, err
	}
	if patch.Code != nil {
		c.Code = strings.TrimSpace(*patch.Code)
	}
	if patch.Title != nil {
		c.Title = strings.TrimSpace(*patch.Title)
	}
	if patch.Category != nil {
		c.Category = *patch.Category
	}
	if patch.Description != nil {
		c.Description = strings.TrimSpace(*patch.Description)
	}
	var f errs.Fields
	validateCourse(&f, c.Code, c.Title, c.Category, c.Description)
	if err := f.Err(); err != nil {
		return Course{}, err
	}
	c.CodeKey = strings.ToUpper(c.Code)
	c.SearchFold, c.SearchLower = searchKeys(c.Code, c.Title, c.Category, c.Description)
	c.UpdatedAt = s.now()
	_, err = s.courses.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{
		"code": c.Code, "code_key": c.CodeKey, "title": c.Title, "category": c.Category, "description": c.Description,
		"search_fold": c.SearchFold, "search_lower": c.SearchLower, "updated_at": c.UpdatedAt,
	}})
	if database.IsDuplicateKey(err) {
		return Course{}, fmt.Errorf("courses: code %q is taken: %w", c.Code, errs.ErrConflict)
	}
	if err != nil {
		return Course{}, fmt.Errorf("courses: update course: %w", dbErr(err))
	}
	return c, nil
}

// GetCourse returns a course with the outline p should see: the working outline for its
// owner and admins, the latest published revision for everyone else. Errors wrap
// errs.ErrNotFound when it does not exist or p may not see it.
func (s *Service) GetCourse(ctx context.Context, p accounts.Principal, id string) (CourseView, error) {
	c, err := s.findCourse(ctx, id)
	if err != nil {
		return CourseView{}, err
	}
	if !canSee(p, &c) {
		return CourseView{}, notFound("course " + id)
	}
	if canEdit(p, &c) {
		return CourseView{Course: c, Editable: true}, nil
	}
	r, err := s.revision(ctx, c.ID, c.Revision)
	if err != nil {
		return CourseView{}, err
	}
	c.Modules = r.rev.Modules
	c.DraftChanges = false
	return CourseView{Course: c, OutlineRevision: c.Revision}, nil
}

// GetRevision returns one published revision of a course. Staff who may see the course
// may read any revision; learners only revisions of classes they are enrolled in and the
// latest. Errors wrap errs.ErrNotFound.
func (s *Service) GetRevision(ctx context.Context, p accounts.Principal, courseID string, rev int) (Revision, error) {
	c, err := s.findCourse(ctx, courseID)
	if err != nil {
		return Revision{}, err
	}
	visible := canSee(p, &c) && (p.User.IsStaff() || rev == c.Revision)
	if !visible {
		refs, err := s.userEnrolments(ctx, p.User.ID, true)
		if err != nil {
			return Revision{}, err
		}
		for _, e := range refs {
			if e.CourseID != courseID {
				continue
			}
			cl, err := s.classCached(ctx, e.ClassID)
			if err != nil && !errors.Is(err, errs.ErrNotFound) {
				return Revision{}, err
			}
			if err == nil && cl.Revision == rev {
				visible = true
			}
		}
	}
	if !visible {
		return Revision{}, notFound(fmt.Sprintf("revision %d of course %s", rev, courseID))
	}
	r, err := s.revision(ctx, courseID, rev)
	if err != nil {
		return Revision{}, err
	}
	return *r.rev, nil
}

// ListCourses returns a page of the catalog matching f. Q matches code, title, category
// and description ignoring diacritics and case; matches with the query's exact accents
// come first. Learners see published courses only; other staff also archived ones, and
// drafts only their own (admins see all). Errors wrap errs.ErrInvalid for a bad filter.
func (s *Service) ListCourses(ctx context.Context, p accounts.Principal, f CourseFilter) (accounts.Page[CourseSummary], error) {
	var fe errs.Fields
	fe.Check(f.Category != "" && !f.Category.Valid(), "category", "is not a category")
	fe.Check(f.Status != "" && !f.Status.Valid(), "status", "must be draft, published or archived")
	limit := pageLimit(&fe, f.Limit, f.Offset)
	if err := fe.Err(); err != nil {
		return accounts.Page[CourseSummary]{}, err
	}
	filter := bson.M{}
	if f.Category != "" {
		filter["category"] = f.Category
	}
	if f.Status != "" {
		filter["status"] = f.Status
	}
	switch {
	case isAdmin(p):
	case !p.User.IsStaff():
		if f.Status != "" && f.Status != StatusPublished {
			return accounts.Page[CourseSummary]{Items: []CourseSummary{}}, nil
		}
		filter["status"] = StatusPublished
	default:
		filter["$or"] = bson.A{bson.M{"status": bson.M{"$ne": StatusDraft}}, bson.M{"owner_id": p.User.ID}}
	}
	q := textfold.Fold(f.Q)
	if q != "" {
		filter["search_fold"] = bson.M{"$regex": regexp.QuoteMeta(q)}
	}
	cur, err := s.courses.Find(ctx, filter, options.Find().SetProjection(bson.M{
		"code": 1, "title": 1, "category": 1, "description": 1, "owner_id": 1, "status": 1, "revision": 1,
		"created_at": 1, "updated_at": 1, "published_at": 1, "search_fold": 1, "search_lower": 1,
	}))
	if err != nil {
		return accounts.Page[CourseSummary]{}, fmt.Errorf("courses: list courses: %w", dbErr(err))
	}
	var items []CourseSummary
	if err := cur.All(ctx, &items); err != nil {
		return accounts.Page[CourseSummary]{}, fmt.Errorf("courses: list courses: %w", dbErr(err))
	}
	RankCourses(f.Q, items)
	total := len(items)
	lo := min(f.Offset, total)
	hi := min(lo+limit, total)
	page := slices.Clone(items[lo:hi])
	if page == nil {
		page = []CourseSummary{}
	}
	return accounts.Page[CourseSummary]{Items: page, Total: total}, nil
}

// pageLimit checks a page request into f and returns the limit to use.
func pageLimit(f *errs.Fields, limit, offset int) int {
	f.Check(limit < 0 || limit > 500, "limit", "must be from 1 to 500")
	f.Check(offset < 0, "offset", "must not be negative")
	if limit == 0 {
		limit = 50
	}
	return limit
}

// RankCourses orders catalog matches for query q in place: courses whose title contains
// q with its exact accents first, then those whose other fields do, then the matches
// that only agree once diacritics are ignored (title before other fields); within a rank,
// by title ignoring accents. With an empty q, by title.
func RankCourses(q string, items []CourseSummary) {
	lq, fq := textfold.Lower(q), textfold.Fold(q)
	rank := func(c *CourseSummary) int {
		if fq == "" {
			return 0
		}
		switch {
		case strings.Contains(textfold.Lower(c.Title), lq):
			return 0
		case strings.Contains(c.SearchLower, lq):
			return 1
		case strings.Contains(textfold.Fold(c.Title), fq):
			return 2
		default:
			return 3
		}
	}
	type keyed struct {
		r   int
		key string
		c   CourseSummary
	}
	ks := make([]keyed, len(items))
	for i := range items {
		ks[i] = keyed{rank(&items[i]), textfold.Fold(items[i].Title), items[i]}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		if a.r != b.r {
			return a.r - b.r
		}
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.c.ID, b.c.ID)
	})
	for i := range ks {
		items[i] = ks[i].c
	}
}

// editOutline applies edit to the working outline of a course p may change, as one
// compare-and-set write on the course's outline version (retried a few times when
// another edit came first). Errors: those of courseForEdit, whatever edit returns,
// errs.ErrTooLarge when the outline outgrows its limits, errs.ErrConflict when the course
// kept changing underneath.
func (s *Service) editOutline(ctx context.Context, p accounts.Principal, id string, edit func(c *Course) error) (Course, error) {
	for range 5 {
		c, err := s.courseForEdit(ctx, p, id)
		if err != nil {
			return Course{}, err
		}
		if err := edit(&c); err != nil {
			return Course{}, err
		}
		if err := checkOutlineSize(c.Modules); err != nil {
			return Course{}, err
		}
		c.UpdatedAt = s.now()
		c.DraftChanges = true
		res, err := s.courses.UpdateOne(ctx, bson.M{"_id": id, "outline_version": c.OutlineVersion}, bson.M{
			"$set": bson.M{"modules": c.Modules, "draft_changes": true, "updated_at": c.UpdatedAt},
			"$inc": bson.M{"outline_version": 1},
		})
		if err != nil {
			return Course{}, fmt.Errorf("courses: edit outline: %w", dbErr(err))
		}
		if res.MatchedCount == 1 {
			c.OutlineVersion++
			return c, nil
		}
	}
	return Course{}, fmt.Errorf("courses: the outline of %s is being changed by someone else; try again: %w", id, errs.ErrConflict)
}

func checkOutlineSize(modules []Module) error {
	n := 0
	for _, m := range modules {
		n += len(m.Lessons)
	}
	if len(modules) > maxModules || n > maxLessons {
		return fmt.Errorf("courses: at most %d modules and %d lessons: %w", maxModules, maxLessons, errs.ErrTooLarge)
	}
	b, err := bson.Marshal(bson.M{"m": modules})
	if err != nil {
		return fmt.Errorf("courses: encode outline: %w", err)
	}
	if len(b) > maxOutlineBytes {
		return fmt.Errorf("courses: the outline is larger than %d bytes: %w", maxOutlineBytes, errs.ErrTooLarge)
	}
	return nil
}

func findModule(c *Course, moduleID string) int {
	return slices.IndexFunc(c.Modules, func(m Module) bool { return m.ID == moduleID })
}

func findLesson(c *Course, lessonID string) (mi, li int) {
	for i, m := range c.Modules {
		if j := slices.IndexFunc(m.Lessons, func(l Lesson) bool { return l.ID == lessonID }); j >= 0 {
			return i, j
		}
	}
	return -1, -1
}

// AddModule appends a module to a course's working outline. Errors wrap
// errs.ErrNotFound, errs.ErrForbidden, errs.ErrInvalid or errs.ErrTooLarge.
func (s *Service) AddModule(ctx context.Context, p accounts.Principal, courseID string, in ModuleInput) (Module, error) {
	var f errs.Fields
	checkTitle(&f, "title", in.Title)
	if err := f.Err(); err != nil {
		return Module{}, err
	}
	m := Module{ID: ids.New(), Title: strings.TrimSpace(in.Title), Lessons: []Lesson{}}
	_, err := s.editOutline(ctx, p, courseID, func(c *Course) error {
		c.Modules = append(c.Modules, m)
		return nil
	})
	return m, err
}

// UpdateModule renames a module. Errors wrap errs.ErrNotFound (course or module),
// errs.ErrForbidden or errs.ErrInvalid.
func (s *Service) UpdateModule(ctx context.Context, p accounts.Principal, courseID, moduleID string, in ModuleInput) (Module, error) {
	var f errs.Fields
	checkTitle(&f, "title", in.Title)
	if err := f.Err(); err != nil {
		return Module{}, err
	}
	var out Module
	_, err := s.editOutline(ctx, p, courseID, func(c *Course) error {
		i := findModule(c, moduleID)
		if i < 0 {
			return notFound("module " + moduleID)
		}
		c.Modules[i].Title = strings.TrimSpace(in.Title)
		out = c.Modules[i]
		return nil
	})
	return out, err
}

// DeleteModule removes a module and its lessons from the working outline; published
// revisions keep them. Errors wrap errs.ErrNotFound or errs.ErrForbidden.
func (s *Service) DeleteModule(ctx context.Context, p accounts.Principal, courseID, moduleID string) error {
	_, err := s.editOutline(ctx, p, courseID, func(c *Course) error {
		i := findModule(c, moduleID)
		if i < 0 {
			return notFound("module " + moduleID)
		}
		c.Modules = slices.Delete(c.Modules, i, i+1)
		return nil
	})
	return err
}

// MoveModule moves a module to position (0-based) among the course's modules and returns
// the course. Errors wrap errs.ErrNotFound, errs.ErrForbidden or errs.ErrInvalid (position
// out of range).
func (s *Service) MoveModule(ctx context.Context, p accounts.Principal, courseID, moduleID string, position int) (Course, error) {
	return s.editOutline(ctx, p, courseID, func(c *Course) error {
		i := findModule(c, moduleID)
		if i < 0 {
			return notFound("module " + moduleID)
		}
		if position < 0 || position >= len(c.Modules) {
			return errs.Field("position", fmt.Sprintf("must be from 0 to %d", len(c.Modules)-1))
		}
		m := c.Modules[i]
		c.Modules = slices.Insert(slices.Delete(c.Modules, i, i+1), position, m)
		return nil
	})
}

func lessonFromInput(in LessonInput) Lesson {
	return Lesson{
		Title: strings.TrimSpace(in.Title), Kind: in.Kind, MediaID: strings.TrimSpace(in.MediaID),
		Body: in.Body, DurationS: in.DurationS, Pages: in.Pages,
	}
}

// AddLesson appends a lesson to a module of the working outline. Errors wrap
// errs.ErrNotFound (course or module), errs.ErrForbidden, errs.ErrInvalid or
// errs.ErrTooLarge.
func (s *Service) AddLesson(ctx context.Context, p accounts.Principal, courseID, moduleID string, in LessonInput) (Lesson, error) {
	l := lessonFromInput(in)
	if err := validateLesson(l); err != nil {
		return Lesson{}, err
	}
	if err := s.checkLessonMedia(ctx, p, l); err != nil {
		return Lesson{}, err
	}
	l.ID = ids.New()
	_, err := s.editOutline(ctx, p, courseID, func(c *Course) error {
		i := findModule(c, moduleID)
		if i < 0 {
			return notFound("module " + moduleID)
		}
		c.Modules[i].Lessons = append(c.Modules[i].Lessons, l)
		return nil
	})
	return l, err
}

// UpdateLesson changes a lesson of the working outline; its id, and so learners'
// progress, stays. Errors wrap errs.ErrNotFound, errs.ErrForbidden or errs.ErrInvalid.
func (s *Service) UpdateLesson(ctx context.Context, p accounts.Principal, courseID, lessonID string, patch LessonPatch) (Lesson, error) {
	var out Lesson
	_, err := s.editOutline(ctx, p, courseID, func(c *Course) error {
		mi, li := findLesson(c, lessonID)
		if mi < 0 {
			return notFound("lesson " + lessonID)
		}
		l := c.Modules[mi].Lessons[li]
		if patch.Title != nil {
			l.Title = strings.TrimSpace(*patch.Title)
		}
		if patch.Kind != nil {
			l.Kind = *patch.Kind
		}
		if patch.MediaID != nil {
			l.MediaID = strings.TrimSpace(*patch.MediaID)
		}
		if patch.Body != nil {
			l.Body = *patch.Body
		}
		if patch.DurationS != nil {
			l.DurationS = *patch.DurationS
		}
		if patch.Pages != nil {
			l.Pages = *patch.Pages
		}
		if err := validateLesson(l); err != nil {
			return err
		}
		if patch.MediaID != nil || patch.Kind != nil {
			if err := s.checkLessonMedia(ctx, p, l); err != nil {
				return err
			}
		}
		c.Modules[mi].Lessons[li] = l
		out = l
		return nil
	})
	return out, err
}

// DeleteLesson removes a lesson from the working outline; published revisions keep it.
// Errors wrap errs.ErrNotFound or errs.ErrForbidden.
func (s *Service) DeleteLesson(ctx context.Context, p accounts.Principal, courseID, lessonID string) error {
	_, err := s.editOutline(ctx, p, courseID, func(c *Course) error {
		mi, li := findLesson(c, lessonID)
		if mi < 0 {
			return notFound("lesson " + lessonID)
		}
		c.Modules[mi].Lessons = slices.Delete(c.Modules[mi].Lessons, li, li+1)
		return nil
	})
	return err
}

// MoveLesson moves a lesson to position (0-based) in module moduleID (its own module or
// another) and returns the course. Errors wrap errs.ErrNotFound, errs.ErrForbidden or
// errs.ErrInvalid (position out of range).
func (s *Service) MoveLesson(ctx context.Context, p accounts.Principal, courseID, lessonID, moduleID string, position int) (Course, error) {
	return s.editOutline(ctx, p, courseID, func(c *Course) error {
		mi, li := findLesson(c, lessonID)
		if mi < 0 {
			return notFound("lesson " + lessonID)
		}
		to := mi
		if moduleID != "" {
			if to = findModule(c, moduleID); to < 0 {
				return notFound("module " + moduleID)
			}
		}
		l := c.Modules[mi].Lessons[li]
		c.Modules[mi].Lessons = slices.Delete(c.Modules[mi].Lessons, li, li+1)
		if position < 0 || position > len(c.Modules[to].Lessons) {
			return errs.Field("position", fmt.Sprintf("must be from 0 to %d", len(c.Modules[to].Lessons)))
		}
		c.Modules[to].Lessons = slices.Insert(c.Modules[to].Lessons, position, l)
		return nil
	})
}

// PublishCourse makes the working outline the course's next revision and puts the course
// in the catalog. Publishing with no changes since the last revision only restores an
// archived course. Classes stay on the revision they run until moved with
// MoveClassToRevision. Errors wrap errs.ErrNotFound, errs.ErrForbidden, errs.ErrConflict
// (no lessons, an incomplete lesson, or a concurrent publish).
func (s *Service) PublishCourse(ctx context.Context, p accounts.Principal, id string) (Course, error) {
	c, err := s.courseForEdit(ctx, p, id)
	if err != nil {
		return Course{}, err
	}
	now := s.now()
	if c.Revision > 0 && !c.DraftChanges {
		if c.Status != StatusPublished {
			if _, err := s.courses.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"status": StatusPublished, "updated_at": now}}); err != nil {
				return Course{}, fmt.Errorf("courses: publish: %w", dbErr(err))
			}
			c.Status, c.UpdatedAt = StatusPublished, now
			if err := trail.Record(ctx, s.audit, courseEntry(p, trail.CoursePublish, c).With("revision", strconv.Itoa(c.Revision))); err != nil {
				return Course{}, err
			}
		}
		return c, nil
	}
	lessons := outlineLessons(c.Modules)
	if len(lessons) == 0 {
		return Course{}, fmt.Errorf("courses: a course without lessons cannot be published: %w", errs.ErrConflict)
	}
	for _, l := range lessons {
		if err := validateLesson(l); err != nil {
			return Course{}, fmt.Errorf("courses: lesson %q is incomplete (%v): %w", l.Title, err, errs.ErrConflict)
		}
	}
	rev := Revision{
		ID: ids.New(), CourseID: c.ID, Revision: c.Revision + 1, Code: c.Code, Title: c.Title, Category: c.Category,
		Modules: c.Modules, PublishedAt: now, PublishedBy: p.User.ID,
	}
	if _, err := s.revisions.InsertOne(ctx, rev); err != nil {
		if database.IsDuplicateKey(err) {
			return Course{}, fmt.Errorf("courses: %s is being published by someone else: %w", id, errs.ErrConflict)
		}
		return Course{}, fmt.Errorf("courses: publish: %w", dbErr(err))
	}
	set := bson.M{"revision": rev.Revision, "status": StatusPublished, "published_at": now, "updated_at": now, "draft_changes": false}
	// The revision holds the outline read above; if an edit landed since, the working
	// outline still differs from it.
	res, err := s.courses.UpdateOne(ctx, bson.M{"_id": id, "revision": c.Revision, "outline_version": c.OutlineVersion}, bson.M{"$set": set})
	if err == nil && res.MatchedCount == 0 {
		set["draft_changes"] = true
		res, err = s.courses.UpdateOne(ctx, bson.M{"_id": id, "revision": c.Revision}, bson.M{"$set": set})
	}
	if err != nil {
		return Course{}, fmt.Errorf("courses: publish: %w", dbErr(err))
	}
	if res.MatchedCount == 0 {
		return Course{}, fmt.Errorf("courses: %s was published by someone else: %w", id, errs.ErrConflict)
	}
	c.Revision, c.Status, c.PublishedAt, c.UpdatedAt, c.DraftChanges = rev.Revision, StatusPublished, &now, now, set["draft_changes"].(bool)
	if err := trail.Record(ctx, s.audit, courseEntry(p, trail.CoursePublish, c).With("revision", strconv.Itoa(c.Revision))); err != nil {
		return Course{}, err
	}
	return c, nil
}

// ArchiveCourse takes a course out of the catalog: no new classes, running classes go on.
// PublishCourse brings it back. Errors wrap errs.ErrNotFound or errs.ErrForbidden.
func (s *Service) ArchiveCourse(ctx context.Context, p accounts.Principal, id string) (Course, error) {
	c, err := s.courseForEdit(ctx, p, id)
	if err != nil {
		return Course{}, err
	}
	now := s.now()
	if _, err := s.courses.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"status": StatusArchived, "updated_at": now}}); err != nil {
		return Course{}, fmt.Errorf("courses: archive: %w", dbErr(err))
	}
	c.Status, c.UpdatedAt = StatusArchived, now
	if err := trail.Record(ctx, s.audit, courseEntry(p, trail.CourseArchive, c)); err != nil {
		return Course{}, err
	}
	return c, nil
}
