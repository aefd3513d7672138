package live

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func at(min float64) time.Time { return t0.Add(time.Duration(min * float64(time.Minute))) }

func TestPresentDuration(t *testing.T) {
	cutoff := at(120)
	tests := []struct {
		name string
		ivs  []Interval
		want float64 // minutes
	}{
		{"none", nil, 0},
		{"one", []Interval{{at(0), at(30)}}, 30},
		{"two devices overlapping count once", []Interval{{at(0), at(30)}, {at(10), at(40)}}, 40},
		{"contained", []Interval{{at(0), at(60)}, {at(10), at(20)}}, 60},
		{"disjoint", []Interval{{at(0), at(10)}, {at(20), at(30)}}, 20},
		{"touching", []Interval{{at(0), at(10)}, {at(10), at(20)}}, 20},
		{"unsorted", []Interval{{at(50), at(60)}, {at(0), at(10)}, {at(5), at(15)}}, 25},
		{"open ends at cutoff", []Interval{{at(100), time.Time{}}}, 20},
		{"open and closed overlap", []Interval{{at(90), time.Time{}}, {at(80), at(100)}}, 40},
		{"past cutoff clipped", []Interval{{at(110), at(200)}}, 10},
		{"after cutoff nothing", []Interval{{at(130), at(140)}}, 0},
		{"inverted ignored", []Interval{{at(30), at(10)}}, 0},
		{"empty ignored", []Interval{{at(30), at(30)}}, 0},
		{"three devices chain", []Interval{{at(0), at(10)}, {at(5), at(25)}, {at(20), at(30)}, {at(40), at(45)}}, 35},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PresentDuration(tt.ivs, cutoff).Minutes(); got != tt.want {
				t.Errorf("got %v minutes, want %v", got, tt.want)
			}
		})
	}
}

func TestBuildAttendance(t *testing.T) {
	left := func(m float64) *time.Time { x := at(m); return &x }
	docs := []attendanceDoc{
		{ID: "1", UserID: "u1", FullName: "Trần Văn B", Role: RoleLearner, JoinedAt: at(0), LeftAt: left(30)},
		{ID: "2", UserID: "u1", FullName: "Trần Văn B", Role: RoleLearner, JoinedAt: at(10), LeftAt: left(45)}, // phone
		{ID: "3", UserID: "u2", FullName: "Lê Thị A", Role: RoleLearner, JoinedAt: at(5), LeftAt: nil},         // still here
		{ID: "4", UserID: "u2", FullName: "Lê Thị A", Role: RoleLearner, JoinedAt: at(1), LeftAt: left(2)},
		{ID: "5", UserID: "t", FullName: "Trainer", Role: RoleTrainer, JoinedAt: at(0), LeftAt: left(60)},
	}
	rows := buildAttendance(docs, at(60))
	if len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	a, b := rows[0], rows[1] // sorted by name: Lê before Trần
	if a.UserID != "u2" || a.LeftAt != nil || !a.JoinedAt.Equal(at(1)) || a.MinutesPresent != 56 || a.Connections != 2 {
		t.Errorf("u2 row %+v", a)
	}
	if b.UserID != "u1" || b.LeftAt == nil || !b.LeftAt.Equal(at(45)) || !b.JoinedAt.Equal(at(0)) || b.MinutesPresent != 45 {
		t.Errorf("u1 row %+v", b)
	}
	var buf bytes.Buffer
	if err := WriteAttendanceCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	want := "user_id,full_name,joined_at,left_at,minutes_present,connections\n" +
		"u2,Lê Thị A,2026-03-02T08:01:00Z,,56.0,2\n" +
		"u1,Trần Văn B,2026-03-02T08:00:00Z,2026-03-02T08:45:00Z,45.0,2\n"
	if buf.String() != want {
		t.Errorf("csv:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestAttendanceCSVDefusesFormulas(t *testing.T) {
	var buf bytes.Buffer
	rows := []AttendanceRow{{UserID: "u", FullName: "=HYPERLINK(\"x\")", JoinedAt: t0}}
	if err := WriteAttendanceCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `'=HYPERLINK`) {
		t.Errorf("formula not defused: %s", buf.String())
	}
}
