package reports

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hoctap/accounts"
)

// readBook opens an export again and checks what every sheet must have: a frozen header
// row and an autofilter starting at A1.
func readBook(t *testing.T, data []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("export does not open: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	sheets := 0
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
			continue
		}
		sheets++
		rc, _ := zf.Open()
		xml, _ := io.ReadAll(rc)
		rc.Close()
		if !regexp.MustCompile(`<autoFilter ref="\$?A\$?1:\$?[A-Z]+\$?[0-9]+"`).Match(xml) {
			t.Errorf("%s has no autofilter", zf.Name)
		}
	}
	if sheets == 0 {
		t.Fatal("no worksheets")
	}
	for _, name := range f.GetSheetList() {
		p, err := f.GetPanes(name)
		if err != nil || !p.Freeze || p.YSplit != 1 || p.TopLeftCell != "A2" {
			t.Errorf("sheet %s: header row not frozen: %+v %v", name, p, err)
		}
	}
	return f
}

// wantRows compares a sheet's formatted cells with want, cell by cell.
func wantRows(t *testing.T, f *excelize.File, sheet string, want [][]string) {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Fatalf("sheet %s has %d rows, want %d:\n%q", sheet, len(rows), len(want), rows)
	}
	for i := range want {
		for j := range want[i] {
			got := ""
			if j < len(rows[i]) {
				got = rows[i][j]
			}
			if got != want[i][j] {
				t.Errorf("sheet %s cell %s: %q, want %q", sheet, cellName(j, i), got, want[i][j])
			}
		}
		if len(rows[i]) > len(want[i]) {
			t.Errorf("sheet %s row %d has extra cells %q", sheet, i+1, rows[i][len(want[i]):])
		}
	}
}

func cellName(col, row int) string {
	n, _ := excelize.CoordinatesToCellName(col+1, row+1)
	return n
}

func raw(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestClassAndAttendanceExports(t *testing.T) {
	f := newCertFixture(t)
	w := f.w
	ctx := context.Background()
	f.w.quiz.res[f.course.ID] = CourseQuizResults{
		Quizzes: []QuizInfo{{ID: "q1", Title: "Giữa kỳ"}, {ID: "q2", Title: "Cuối kỳ"}},
		Results: []QuizResult{{QuizID: "q1", UserID: f.learner.ID, BestPercent: 92.5}, {QuizID: "q2", UserID: f.learner.ID, BestPercent: 80},
			{QuizID: "q1", UserID: f.peer.ID, BestPercent: 40}, {QuizID: "q1", UserID: f.peer.ID, BestPercent: 55}},
	}
	joined := time.Date(2025, 3, 10, 1, 0, 0, 0, time.UTC) // 08:00 in Hà Nội
	left := joined.Add(95 * time.Minute)
	w.live.classes[f.class.ID] = f.course.ID
	w.live.sessions[f.class.ID] = []SessionAttendance{
		{SessionID: "s2", Title: "Buổi 2", StartsAt: time.Date(2025, 3, 17, 1, 0, 0, 0, time.UTC),
			Learners: []LearnerAttendance{{UserID: f.peer.ID, JoinedAt: &joined, LeftAt: &left, Minutes: 20}}},
		{SessionID: "s1", Title: "Buổi 1 & <khai giảng>", StartsAt: time.Date(2025, 3, 9, 18, 0, 0, 0, time.UTC), // 10/03 in Vietnam
			Learners: []LearnerAttendance{{UserID: f.learner.ID, JoinedAt: &joined, LeftAt: &left, Minutes: 95}}},
	}
	// A third learner in another unit: hidden from the first unit's officer.
	outsider := w.user("Bùi Văn Xa", f.other, "Bác sĩ")
	w.learn.enrol(f.class, outsider, 0, time.Time{})

	var buf bytes.Buffer
	if err := w.svc.ClassReportXLSX(ctx, f.trainer, f.class.ID, &buf); err != nil {
		t.Fatal(err)
	}
	book := readBook(t, buf.Bytes())
	header := []string{"STT", "Họ và tên", "Tên đăng nhập", "Đơn vị", "Chức vụ", "Tiến độ", "Hoàn thành", "Ngày hoàn thành",
		"Điểm: Giữa kỳ", "Điểm: Cuối kỳ", "Số phút dự trực tuyến"}
	wantRows(t, book, "Học viên", [][]string{
		header,
		{"1", "Đặng Quốc Việt", f.peer.Username, "Sở Tài nguyên và Môi trường", "Chuyên viên", "40.0%", "Chưa", "", "55.0", "", "20"},
		{"2", "Nguyễn Thị Ngọc Ánh <script>", f.learner.Username, "Sở Tài nguyên và Môi trường", "Chuyên viên chính", "100.0%", "Có", "01/04/2025", "92.5", "80.0", "95"},
		{"3", "Bùi Văn Xa", outsider.Username, "Sở Y tế", "Bác sĩ", "0.0%", "Chưa", "", "", "", "0"},
	})
	if v := raw(t, book, "Học viên", "F2"); v != "0.4" {
		t.Errorf("progress stored as %q, want the fraction 0.4", v)
	}
	if v := raw(t, book, "Học viên", "H3"); v != "45748.375" { // 01/04/2025 09:00 as an Excel date
		t.Errorf("completion date stored as %q", v)
	}

	// The unit's officer sees only their unit's learners; another unit's officer only theirs.
	buf.Reset()
	if err := w.svc.ClassReportXLSX(ctx, f.alien, f.class.ID, &buf); err != nil {
		t.Fatal(err)
	}
	book = readBook(t, buf.Bytes())
	wantRows(t, book, "Học viên", [][]string{header, {"1", "Bùi Văn Xa", outsider.Username, "Sở Y tế", "Bác sĩ", "0.0%", "Chưa", "", "", "", "0"}})
	for _, p := range []accounts.Principal{officer(f.learner), officer(w.user("Giảng viên khác", f.other, "GV", accounts.RoleTrainer))} {
		wantCode(t, w.svc.ClassReportXLSX(ctx, p, f.class.ID, io.Discard), "forbidden")
		wantCode(t, w.svc.AttendanceReportXLSX(ctx, p, f.class.ID, io.Discard), "forbidden")
	}
	wantCode(t, w.svc.ClassReportXLSX(ctx, w.admin, "nope", io.Discard), "not_found")

	// Attendance: sessions in time order, every learner of each.
	buf.Reset()
	if err := w.svc.AttendanceReportXLSX(ctx, f.officer, f.class.ID, &buf); err != nil {
		t.Fatal(err)
	}
	book = readBook(t, buf.Bytes())
	wantRows(t, book, "Điểm danh", [][]string{
		{"STT", "Buổi học", "Ngày", "Họ và tên", "Đơn vị", "Vào lúc", "Rời lúc", "Số phút"},
		{"1", "Buổi 1 & <khai giảng>", "10/03/2025", "Đặng Quốc Việt", "Sở Tài nguyên và Môi trường", "", "", "0"},
		{"2", "Buổi 1 & <khai giảng>", "10/03/2025", "Nguyễn Thị Ngọc Ánh <script>", "Sở Tài nguyên và Môi trường", "10/03/2025 08:00", "10/03/2025 09:35", "95"},
		{"3", "Buổi 2", "17/03/2025", "Đặng Quốc Việt", "Sở Tài nguyên và Môi trường", "10/03/2025 08:00", "10/03/2025 09:35", "20"},
		{"4", "Buổi 2", "17/03/2025", "Nguyễn Thị Ngọc Ánh <script>", "Sở Tài nguyên và Môi trường", "", "", "0"},
	})
}

func TestTargetAndPlanExports(t *testing.T) {
	f := newPlanFixture(t)
	w := f.w
	ctx := context.Background()
	for i := range 1200 { // enough for thousands separators: A1 1,200 people, 1,000 done
		u := w.user(fmt.Sprintf("Cán bộ %d", i), f.a1, "Chuyên viên")
		if i < 1000 {
			w.learn.enrol(f.k1, u, 100, t0)
		}
	}
	w.user("Trưởng phòng B", f.b, "Trưởng phòng")
	tg := must(w.svc.CreateTarget(ctx, w.admin, NewTarget{UnitID: f.prov.ID, Title: "100% CBCC dùng DVC", CourseID: f.c1.ID,
		Metric: MetricCompleted, Percent: 90, Due: "2025-12-31"}))
	w.clock.Advance(30 * 24 * time.Hour)
	var buf bytes.Buffer
	if err := w.svc.TargetReportXLSX(ctx, w.admin, tg.ID, StatusQuery{}, &buf); err != nil {
		t.Fatal(err)
	}
	book := readBook(t, buf.Bytes())
	wantRows(t, book, "Chỉ tiêu", [][]string{
		{"Đơn vị", "Mã đơn vị", "Cấp", "Số người phải đạt", "Đã đạt", "Chưa đạt", "Tỷ lệ đạt", "Chỉ tiêu", "Dự báo đến hạn", "Đánh giá"},
		{"Tỉnh", f.prov.Code, "0", "1,202", "1,000", "202", "83.2%", "90.0%", "100.0%", "Đúng tiến độ"},
		{"Huyện A", f.a.Code, "1", "1,201", "1,000", "201", "83.3%", "90.0%", "100.0%", "Đúng tiến độ"},
		{"Xã A1", f.a1.Code, "2", "1,200", "1,000", "200", "83.3%", "90.0%", "100.0%", "Đúng tiến độ"},
		{"Huyện B", f.b.Code, "1", "1", "0", "1", "0.0%", "90.0%", "0.0%", "Chậm tiến độ"},
	})
	// Indentation follows depth.
	for cell, depth := range map[string]int{"A2": 0, "A3": 1, "A4": 2, "A5": 1} {
		id, _ := book.GetCellStyle("Chỉ tiêu", cell)
		st, _ := book.GetStyle(id)
		if st.Alignment == nil && depth != 0 || st.Alignment != nil && st.Alignment.Indent != depth {
			t.Errorf("%s indent %+v, want %d", cell, st.Alignment, depth)
		}
	}
	wantRows(t, book, "Thông tin", [][]string{
		{"Mục", "Nội dung"}, {"Chỉ tiêu", "100% CBCC dùng DVC"}, {"Đơn vị giao", "Tỉnh"}, {"Khoá học", "Chuyển đổi số"},
		{"Tiêu chí", "Hoàn thành khoá học"}, {"Đối tượng", "Tất cả"}, {"Tỷ lệ phải đạt", "90.0%"}, {"Hạn", "31/12/2025"},
		{"Số liệu tính đến", "31/03/2025 09:00"},
	})
	// A district officer's export covers their district only.
	buf.Reset()
	if err := w.svc.TargetReportXLSX(ctx, f.officerA, tg.ID, StatusQuery{}, &buf); err != nil {
		t.Fatal(err)
	}
	if rows, _ := readBook(t, buf.Bytes()).GetRows("Chỉ tiêu"); len(rows) != 3 || rows[1][0] != "Huyện A" {
		t.Fatalf("district export %q", rows)
	}
	wantCode(t, w.svc.TargetReportXLSX(ctx, officer(w.user("x", f.a, "")), tg.ID, StatusQuery{}, io.Discard), "forbidden")

	plan := must(w.svc.CreatePlan(ctx, w.admin, PlanInput{UnitID: f.prov.ID, Year: 2025, Title: "KH 2025",
		Items: []PlanItemInput{{CourseID: f.c1.ID, Planned: 1250}, {CourseID: f.c2.ID, ClassID: f.k2.ID, Planned: 50}}}))
	buf.Reset()
	if err := w.svc.PlanReportXLSX(ctx, w.admin, plan.ID, &buf); err != nil {
		t.Fatal(err)
	}
	book = readBook(t, buf.Bytes())
	if got := book.GetSheetList(); strings.Join(got, ",") != "Kế hoạch,Theo đơn vị,Theo lĩnh vực" {
		t.Fatalf("sheets %v", got)
	}
	figs := []string{"Kế hoạch", "Đã ghi danh", "Hoàn thành", "Tỷ lệ ghi danh", "Tỷ lệ hoàn thành"}
	wantRows(t, book, "Kế hoạch", [][]string{
		append([]string{"STT", "Khoá học / lớp", "Lĩnh vực"}, figs...),
		{"1", "Chuyển đổi số", "Kỹ năng số", "1,250", "1,000", "1,000", "80.0%", "80.0%"},
		{"2", "Lý luận chính trị – LLCT 2025", "Lý luận chính trị", "50", "0", "0", "0.0%", "0.0%"},
		{"", "Tổng cộng", "Đạt 76,9% so với kế hoạch (1.000/1.300 học viên)", "1,300", "1,000", "1,000", "76.9%", "76.9%"},
	})
	wantRows(t, book, "Theo đơn vị", [][]string{
		append([]string{"Đơn vị", "Mã đơn vị"}, figs...),
		{"Tỉnh", f.prov.Code, "1,300", "1,000", "1,000", "76.9%", "76.9%"},
		{"Huyện A", f.a.Code, "0", "1,000", "1,000", "0.0%", "0.0%"},
		{"Huyện B", f.b.Code, "0", "0", "0", "0.0%", "0.0%"},
	})
	wantRows(t, book, "Theo lĩnh vực", [][]string{
		append([]string{"Lĩnh vực"}, figs...),
		{"Kỹ năng số", "1,250", "1,000", "1,000", "80.0%", "80.0%"},
		{"Lý luận chính trị", "50", "0", "0", "0.0%", "0.0%"},
	})
	wantCode(t, w.svc.PlanReportXLSX(ctx, f.officerA, plan.ID, io.Discard), "not_found")
}

// classRows generates n learners for the class sheet without holding them.
func classRows(n int) func() (learnerRow, bool) {
	i := 0
	at := time.Date(2025, 4, 1, 2, 0, 0, 0, time.UTC)
	score := 87.5
	return func() (learnerRow, bool) {
		if i >= n {
			return learnerRow{}, false
		}
		i++
		return learnerRow{FullName: "Nguyễn Văn Học Viên " + fmt.Sprint(i), Username: fmt.Sprintf("hv%06d", i),
			Unit: "Ủy ban nhân dân xã Tân Phú", Position: "Công chức", Percent: i % 101, Completed: i%3 == 0,
			CompletedAt: &at, Scores: []*float64{&score, nil}, Minutes: i % 240}, true
	}
}

var benchQuizzes = []QuizInfo{{ID: "a", Title: "Giữa kỳ"}, {ID: "b", Title: "Cuối kỳ"}}

// TestClassSheetLarge writes 50,000 learners and checks the file and that the heap did not
// grow with the rows (the stream spills to a temporary file past 16 MB).
func TestClassSheetLarge(t *testing.T) {
	var buf bytes.Buffer
	peak := heapPeak(func() {
		if err := writeClassSheet(&buf, "Lớp lớn", benchQuizzes, classRows(50_000)); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("50,000 rows: %d bytes of xlsx, heap peak %.1f MiB above the start", buf.Len(), float64(peak)/(1<<20))
	if peak > 200<<20 {
		t.Errorf("heap grew by %d MiB while streaming 50,000 rows", peak>>20)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.Rows("Học viên")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var last []string
	for rows.Next() {
		n++
		if last, err = rows.Columns(); err != nil {
			t.Fatal(err)
		}
	}
	if n != 50_001 || last[0] != "50,000" || last[2] != "hv050000" || last[5] != "5.0%" || last[8] != "87.5" || last[10] != "80" {
		t.Fatalf("%d rows, last %q", n, last)
	}
}

// heapPeak runs fn and returns how far the live heap rose above its level before, sampled
// every millisecond.
func heapPeak(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var top uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > top {
				top = m.HeapAlloc - base
			}
			select {
			case <-stop:
				peak <- top
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(stop)
	return <-peak
}

// BenchmarkClassSheet streams a class report of 50,000 learners; B/op and allocs/op show
// the allocation per export and "peak-MiB" the highest live heap above the start.
func BenchmarkClassSheet(b *testing.B) {
	var peak uint64
	var size int
	for b.Loop() {
		var n countingWriter
		peak = max(peak, heapPeak(func() {
			if err := writeClassSheet(&n, "Lớp lớn", benchQuizzes, classRows(50_000)); err != nil {
				b.Fatal(err)
			}
		}))
		size = int(n)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(size)/(1<<20), "xlsx-MiB")
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
