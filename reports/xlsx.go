package reports

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"hoctap/accounts"
	"hoctap/internal/errs"
	"hoctap/internal/textfold"
)

// Spreadsheets are written with excelize's StreamWriter: rows go to a temporary buffer
// (spilled to disk past 16 MB) rather than a sheet model in memory, so a class of 50,000
// learners exports in bounded memory (BenchmarkClassSheet measures it). Every sheet has
// Vietnamese headers in row 1, frozen, with an autofilter over the data; percents are
// stored as fractions formatted "0.0%", counts as integers "#,##0", dates as Excel dates
// "dd/mm/yyyy" in Vietnam's time.

// XLSXContentType is the media type of the exports.
const XLSXContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// maxIndent is the deepest indentation used for unit trees.
const maxIndent = 15

// workbook is an excelize file with the styles the exports use.
type workbook struct {
	f                                                   *excelize.File
	header, text, integer, percent, date, dateTime, dec int
	indent                                              []int // text indented by depth
	sheets                                              int
}

func newWorkbook() (*workbook, error) {
	f := excelize.NewFile()
	wb := &workbook{f: f}
	var err error
	style := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(s)
		return id
	}
	border := []excelize.Border{{Type: "bottom", Color: "1A237E", Style: 2}}
	wb.header = style(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1A237E"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"}, Border: border})
	wb.text = style(&excelize.Style{})
	intFmt, pctFmt, dateFmt, dtFmt, decFmt := "#,##0", "0.0%", "dd/mm/yyyy", "dd/mm/yyyy hh:mm", "0.0"
	wb.integer = style(&excelize.Style{CustomNumFmt: &intFmt})
	wb.percent = style(&excelize.Style{CustomNumFmt: &pctFmt})
	wb.date = style(&excelize.Style{CustomNumFmt: &dateFmt})
	wb.dateTime = style(&excelize.Style{CustomNumFmt: &dtFmt})
	wb.dec = style(&excelize.Style{CustomNumFmt: &decFmt})
	for d := 0; d <= maxIndent; d++ {
		wb.indent = append(wb.indent, style(&excelize.Style{Alignment: &excelize.Alignment{Indent: d}}))
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("reports: spreadsheet styles: %w", err)
	}
	return wb, nil
}

// sheet is one streamed worksheet.
type sheet struct {
	wb   *workbook
	name string
	sw   *excelize.StreamWriter
	cols int
	row  int
}

// column is a header and its width in characters.
type column struct {
	title string
	width float64
}

// addSheet starts a streamed sheet with a frozen header row.
func (wb *workbook) addSheet(name string, cols []column) (*sheet, error) {
	if wb.sheets == 0 {
		if err := wb.f.SetSheetName("Sheet1", name); err != nil {
			return nil, fmt.Errorf("reports: sheet %s: %w", name, err)
		}
	} else if _, err := wb.f.NewSheet(name); err != nil {
		return nil, fmt.Errorf("reports: sheet %s: %w", name, err)
	}
	wb.sheets++
	sw, err := wb.f.NewStreamWriter(name)
	if err != nil {
		return nil, fmt.Errorf("reports: sheet %s: %w", name, err)
	}
	for i, c := range cols {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return nil, fmt.Errorf("reports: sheet %s: %w", name, err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return nil, fmt.Errorf("reports: sheet %s: %w", name, err)
	}
	s := &sheet{wb: wb, name: name, sw: sw, cols: len(cols)}
	head := make([]any, len(cols))
	for i, c := range cols {
		head[i] = excelize.Cell{StyleID: wb.header, Value: c.title}
	}
	if err := s.add(head...); err != nil {
		return nil, err
	}
	return s, nil
}

// add writes the next row.
func (s *sheet) add(cells ...any) error {
	s.row++
	cell, err := excelize.CoordinatesToCellName(1, s.row)
	if err != nil {
		return err
	}
	if err := s.sw.SetRow(cell, cells); err != nil {
		return fmt.Errorf("reports: sheet %s row %d: %w", s.name, s.row, err)
	}
	return nil
}

// finish sets the autofilter over what was written and ends the stream.
func (s *sheet) finish() error {
	last, err := excelize.CoordinatesToCellName(s.cols, max(s.row, 1))
	if err != nil {
		return err
	}
	// Before Flush: the stream writes the worksheet's autoFilter element when it ends.
	if err := s.wb.f.AutoFilter(s.name, "A1:"+last, nil); err != nil {
		return fmt.Errorf("reports: sheet %s filter: %w", s.name, err)
	}
	if err := s.sw.Flush(); err != nil {
		return fmt.Errorf("reports: sheet %s: %w", s.name, err)
	}
	return nil
}

// write sends the workbook to w and releases it.
func (wb *workbook) write(w io.Writer) error {
	defer wb.f.Close()
	if _, err := wb.f.WriteTo(w); err != nil {
		return fmt.Errorf("reports: write spreadsheet: %w", err)
	}
	return nil
}

func (wb *workbook) close() { _ = wb.f.Close() }

// Cell helpers.
func (wb *workbook) str(s string) excelize.Cell { return excelize.Cell{StyleID: wb.text, Value: s} }
func (wb *workbook) num(n int) excelize.Cell    { return excelize.Cell{StyleID: wb.integer, Value: n} }
func (wb *workbook) pct(p float64) excelize.Cell {
	return excelize.Cell{StyleID: wb.percent, Value: p / 100}
}

// day is a date cell, empty for the zero time.
func (wb *workbook) day(t time.Time) excelize.Cell {
	if t.IsZero() {
		return excelize.Cell{StyleID: wb.text, Value: ""}
	}
	return excelize.Cell{StyleID: wb.date, Value: vnWall(t)}
}

func (wb *workbook) moment(t *time.Time) excelize.Cell {
	if t == nil || t.IsZero() {
		return excelize.Cell{StyleID: wb.text, Value: ""}
	}
	return excelize.Cell{StyleID: wb.dateTime, Value: vnWall(*t)}
}

// vnWall returns t's Vietnamese wall-clock time labelled UTC: Excel dates have no zone,
// and excelize converts the instant.
func vnWall(t time.Time) time.Time {
	l := t.In(vnZone)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
}

// PaceLabel is a pace in Vietnamese.
func PaceLabel(p Pace) string {
	switch p {
	case PaceMet:
		return "Đã đạt"
	case PaceOnTrack:
		return "Đúng tiến độ"
	case PaceBehind:
		return "Chậm tiến độ"
	case PaceOverdue:
		return "Quá hạn"
	case PaceNoStaff:
		return "Không có đối tượng"
	}
	return string(p)
}

// classAccess decides what part of a class the caller may export: everything for an
// admin or the class's trainer, the learners whose unit they manage for a unit_admin.
// It returns the class and a filter on units (nil: everything).
func (s *Service) classAccess(ctx context.Context, actor accounts.Principal, classID string) (ClassInfo, *directory, func(unitID string) bool, error) {
	class, err := s.learn.FindClass(ctx, classID)
	if err != nil {
		return ClassInfo{}, nil, nil, err
	}
	d, _, err := s.directory(ctx)
	if err != nil {
		return ClassInfo{}, nil, nil, err
	}
	if actor.Has(accounts.RoleAdmin) || isTrainerOf(actor, class) {
		return class, d, nil, nil
	}
	if !actor.Has(accounts.RoleUnitAdmin) {
		return ClassInfo{}, nil, nil, fmt.Errorf("only the class's trainers and personnel officers export it: %w", errs.ErrForbidden)
	}
	sc, err := scopeOf(actor, d.units)
	if err != nil {
		return ClassInfo{}, nil, nil, err
	}
	return class, d, sc.has, nil
}

// learnerRow is a learner of a class as the class report shows them.
type learnerRow struct {
	FullName, Username, Unit, Position string
	Percent                            int
	Completed                          bool
	CompletedAt                        *time.Time
	Scores                             []*float64 // per quiz, nil when not taken
	Minutes                            int
}

// classLearners resolves the learners of a class the caller may see, with their current
// unit and position, sorted by unit and name.
func (s *Service) classLearners(ctx context.Context, actor accounts.Principal, classID string) (ClassInfo, CourseInfo, []EnrolmentRecord, *directory, error) {
	class, d, allowed, err := s.classAccess(ctx, actor, classID)
	if err != nil {
		return ClassInfo{}, CourseInfo{}, nil, nil, err
	}
	course, err := s.learn.FindCourse(ctx, class.CourseID)
	if err != nil {
		return ClassInfo{}, CourseInfo{}, nil, nil, fmt.Errorf("reports: course %s: %w", class.CourseID, err)
	}
	recs, err := s.learn.ClassEnrolments(ctx, classID)
	if err != nil {
		return ClassInfo{}, CourseInfo{}, nil, nil, fmt.Errorf("reports: enrolments of class %s: %w", classID, err)
	}
	current := make(map[string]*accounts.User, len(recs))
	for i := range d.users {
		current[d.users[i].ID] = &d.users[i]
	}
	out := recs[:0:0]
	for _, r := range recs {
		if u, ok := current[r.UserID]; ok { // inactive learners keep the unit they enrolled from
			r.FullName, r.Username, r.UnitID, r.Position = u.FullName, u.Username, u.UnitID, u.Position
		}
		if allowed != nil && !allowed(r.UnitID) {
			continue
		}
		out = append(out, r)
	}
	keys := make(map[string]string, len(out)) // folded once per learner, not per comparison
	for _, r := range out {
		keys[r.UserID] = textfold.Fold(d.byID[r.UnitID].Name) + "\x00" + textfold.Fold(r.FullName)
	}
	slices.SortFunc(out, func(a, b EnrolmentRecord) int {
		if c := strings.Compare(keys[a.UserID], keys[b.UserID]); c != 0 {
			return c
		}
		return strings.Compare(a.UserID, b.UserID)
	})
	return class, course, out, d, nil
}

// ClassReportXLSX writes a class's spreadsheet: each learner with unit, position,
// progress, completion and its date, best percent in each quiz of the course, and minutes
// present in the class's live sessions. A unit_admin gets only the learners of units they
// manage. It returns errs.ErrNotFound for an unknown class and errs.ErrForbidden for a
// caller who is not an admin, a unit_admin or a trainer of the class.
func (s *Service) ClassReportXLSX(ctx context.Context, actor accounts.Principal, classID string, w io.Writer) error {
	class, course, recs, d, err := s.classLearners(ctx, actor, classID)
	if err != nil {
		return err
	}
	var quizzes CourseQuizResults
	if s.quiz != nil {
		if quizzes, err = s.quiz.CourseQuizResults(ctx, course.ID); err != nil {
			return fmt.Errorf("reports: quiz results of course %s: %w", course.ID, err)
		}
	}
	best := map[string]float64{} // user + "/" + quiz → best percent
	for _, r := range quizzes.Results {
		k := r.UserID + "/" + r.QuizID
		best[k] = max(best[k], r.BestPercent)
	}
	minutes := map[string]int{}
	if s.live != nil {
		sessions, err := s.live.ClassAttendance(ctx, classID)
		if err != nil {
			return fmt.Errorf("reports: attendance of class %s: %w", classID, err)
		}
		for _, ss := range sessions {
			for _, l := range ss.Learners {
				minutes[l.UserID] += l.Minutes
			}
		}
	}
	i := 0
	next := func() (learnerRow, bool) {
		if i >= len(recs) {
			return learnerRow{}, false
		}
		r := recs[i]
		i++
		row := learnerRow{FullName: r.FullName, Username: r.Username, Unit: d.byID[r.UnitID].Name, Position: r.Position,
			Percent: r.Percent, Completed: r.Completed, CompletedAt: r.CompletedAt, Minutes: minutes[r.UserID]}
		for _, q := range quizzes.Quizzes {
			if v, ok := best[r.UserID+"/"+q.ID]; ok {
				row.Scores = append(row.Scores, &v)
			} else {
				row.Scores = append(row.Scores, nil)
			}
		}
		return row, true
	}
	return writeClassSheet(w, class.Name+" – "+course.Title, quizzes.Quizzes, next)
}

// writeClassSheet streams the class report from next.
func writeClassSheet(w io.Writer, title string, quizzes []QuizInfo, next func() (learnerRow, bool)) error {
	wb, err := newWorkbook()
	if err != nil {
		return err
	}
	defer wb.close()
	cols := []column{{"STT", 6}, {"Họ và tên", 28}, {"Tên đăng nhập", 16}, {"Đơn vị", 30}, {"Chức vụ", 20},
		{"Tiến độ", 10}, {"Hoàn thành", 11}, {"Ngày hoàn thành", 15}}
	for _, q := range quizzes {
		cols = append(cols, column{"Điểm: " + q.Title, 14})
	}
	cols = append(cols, column{"Số phút dự trực tuyến", 14})
	sh, err := wb.addSheet("Học viên", cols)
	if err != nil {
		return err
	}
	n := 0
	cells := make([]any, 0, len(cols))
	for {
		r, ok := next()
		if !ok {
			break
		}
		n++
		done := "Chưa"
		var at time.Time
		if r.Completed {
			done = "Có"
			if r.CompletedAt != nil {
				at = *r.CompletedAt
			}
		}
		cells = append(cells[:0], wb.num(n), wb.str(r.FullName), wb.str(r.Username), wb.str(r.Unit), wb.str(r.Position),
			wb.pct(float64(r.Percent)), wb.str(done), wb.day(at))
		for _, sc := range r.Scores {
			if sc == nil {
				cells = append(cells, wb.str(""))
			} else {
				cells = append(cells, excelize.Cell{StyleID: wb.dec, Value: *sc})
			}
		}
		cells = append(cells, wb.num(r.Minutes))
		if err := sh.add(cells...); err != nil {
			return err
		}
	}
	if err := sh.finish(); err != nil {
		return err
	}
	_ = wb.f.SetDocProps(&excelize.DocProperties{Title: title, Creator: "Hoctap", Language: "vi-VN"})
	return wb.write(w)
}

// TargetReportXLSX writes a target's rolled-up status, one row per unit in tree order,
// the unit name indented by its depth. Errors as TargetStatus.
func (s *Service) TargetReportXLSX(ctx context.Context, actor accounts.Principal, id string, q StatusQuery, w io.Writer) error {
	st, err := s.TargetStatus(ctx, actor, id, q)
	if err != nil {
		return err
	}
	wb, err := newWorkbook()
	if err != nil {
		return err
	}
	defer wb.close()
	sh, err := wb.addSheet("Chỉ tiêu", []column{{"Đơn vị", 40}, {"Mã đơn vị", 12}, {"Cấp", 6}, {"Số người phải đạt", 14},
		{"Đã đạt", 10}, {"Chưa đạt", 10}, {"Tỷ lệ đạt", 10}, {"Chỉ tiêu", 10}, {"Dự báo đến hạn", 12}, {"Đánh giá", 18}})
	if err != nil {
		return err
	}
	for _, n := range flatten(&st.StatusNode) {
		name := excelize.Cell{StyleID: wb.indent[min(n.Depth, maxIndent)], Value: n.Unit.Name}
		if err := sh.add(name, wb.str(n.Unit.Code), wb.num(n.Depth), wb.num(n.Staff), wb.num(n.Done), wb.num(n.Staff-n.Done),
			wb.pct(n.Percent), wb.pct(st.Target.Percent), wb.pct(n.ProjectedPercent), wb.str(PaceLabel(n.Pace))); err != nil {
			return err
		}
	}
	if err := sh.finish(); err != nil {
		return err
	}
	info, err := wb.addSheet("Thông tin", []column{{"Mục", 24}, {"Nội dung", 60}})
	if err != nil {
		return err
	}
	t := st.Target
	metric := map[Metric]string{MetricCompleted: "Hoàn thành khoá học", MetricPassed: "Đạt bài kiểm tra",
		MetricAttended: fmt.Sprintf("Dự học trực tuyến ít nhất %d phút", t.MinMinutes)}[t.Metric]
	positions := "Tất cả"
	if len(t.Positions) > 0 {
		positions = strings.Join(t.Positions, "; ")
	}
	due, _ := time.ParseInLocation("2006-01-02", t.Due, vnZone)
	for _, r := range [][2]excelize.Cell{
		{wb.str("Chỉ tiêu"), wb.str(t.Title)},
		{wb.str("Đơn vị giao"), wb.str(t.UnitName)},
		{wb.str("Khoá học"), wb.str(t.CourseTitle)},
		{wb.str("Tiêu chí"), wb.str(metric)},
		{wb.str("Đối tượng"), wb.str(positions)},
		{wb.str("Tỷ lệ phải đạt"), wb.pct(t.Percent)},
		{wb.str("Hạn"), wb.day(due)},
		{wb.str("Số liệu tính đến"), wb.moment(&st.AsOf)},
	} {
		if err := info.add(r[0], r[1]); err != nil {
			return err
		}
	}
	if err := info.finish(); err != nil {
		return err
	}
	return wb.write(w)
}

// PlanReportXLSX writes a plan report: the lines, then by unit and by content area.
// Errors as PlanReport.
func (s *Service) PlanReportXLSX(ctx context.Context, actor accounts.Principal, id string, w io.Writer) error {
	rep, err := s.PlanReport(ctx, actor, id)
	if err != nil {
		return err
	}
	wb, err := newWorkbook()
	if err != nil {
		return err
	}
	defer wb.close()
	figures := func(f PlanFigures) []any {
		return []any{wb.num(f.Planned), wb.num(f.Enrolled), wb.num(f.Completed), wb.pct(f.EnrolledPercent), wb.pct(f.CompletedPercent)}
	}
	figCols := []column{{"Kế hoạch", 11}, {"Đã ghi danh", 11}, {"Hoàn thành", 11}, {"Tỷ lệ ghi danh", 12}, {"Tỷ lệ hoàn thành", 12}}
	items, err := wb.addSheet("Kế hoạch", append([]column{{"STT", 6}, {"Khoá học / lớp", 44}, {"Lĩnh vực", 24}}, figCols...))
	if err != nil {
		return err
	}
	for i, it := range rep.Items {
		if err := items.add(append([]any{wb.num(i + 1), wb.str(it.Item.Title), wb.str(it.Item.CategoryLabel)}, figures(it.PlanFigures)...)...); err != nil {
			return err
		}
	}
	if err := items.add(append([]any{wb.str(""), wb.str("Tổng cộng"), wb.str(rep.Summary)}, figures(rep.Total)...)...); err != nil {
		return err
	}
	if err := items.finish(); err != nil {
		return err
	}
	units, err := wb.addSheet("Theo đơn vị", append([]column{{"Đơn vị", 40}, {"Mã đơn vị", 12}}, figCols...))
	if err != nil {
		return err
	}
	for _, u := range rep.ByUnit {
		name := excelize.Cell{StyleID: wb.indent[min(u.Depth, maxIndent)], Value: u.Unit.Name}
		if err := units.add(append([]any{name, wb.str(u.Unit.Code)}, figures(u.PlanFigures)...)...); err != nil {
			return err
		}
	}
	if err := units.finish(); err != nil {
		return err
	}
	cats, err := wb.addSheet("Theo lĩnh vực", append([]column{{"Lĩnh vực", 30}}, figCols...))
	if err != nil {
		return err
	}
	for _, c := range rep.ByCategory {
		if err := cats.add(append([]any{wb.str(c.CategoryLabel)}, figures(c.PlanFigures)...)...); err != nil {
			return err
		}
	}
	if err := cats.finish(); err != nil {
		return err
	}
	return wb.write(w)
}

// AttendanceReportXLSX writes a class's live attendance: one row per session and
// learner (enrolled learners who never joined show 0 minutes). Who may and the errors are
// those of ClassReportXLSX; without live sessions the sheet has only its header.
func (s *Service) AttendanceReportXLSX(ctx context.Context, actor accounts.Principal, classID string, w io.Writer) error {
	_, _, recs, d, err := s.classLearners(ctx, actor, classID)
	if err != nil {
		return err
	}
	var sessions []SessionAttendance
	if s.live != nil {
		if sessions, err = s.live.ClassAttendance(ctx, classID); err != nil {
			return fmt.Errorf("reports: attendance of class %s: %w", classID, err)
		}
	}
	slices.SortStableFunc(sessions, func(a, b SessionAttendance) int { return a.StartsAt.Compare(b.StartsAt) })
	wb, err := newWorkbook()
	if err != nil {
		return err
	}
	defer wb.close()
	sh, err := wb.addSheet("Điểm danh", []column{{"STT", 6}, {"Buổi học", 30}, {"Ngày", 12}, {"Họ và tên", 28},
		{"Đơn vị", 30}, {"Vào lúc", 17}, {"Rời lúc", 17}, {"Số phút", 9}})
	if err != nil {
		return err
	}
	n := 0
	for _, ss := range sessions {
		byUser := map[string]LearnerAttendance{}
		for _, l := range ss.Learners {
			byUser[l.UserID] = l
		}
		for _, r := range recs {
			l := byUser[r.UserID]
			n++
			if err := sh.add(wb.num(n), wb.str(ss.Title), wb.day(ss.StartsAt), wb.str(r.FullName), wb.str(d.byID[r.UnitID].Name),
				wb.moment(l.JoinedAt), wb.moment(l.LeftAt), wb.num(l.Minutes)); err != nil {
				return err
			}
		}
	}
	if err := sh.finish(); err != nil {
		return err
	}
	return wb.write(w)
}
