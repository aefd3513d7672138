package reports

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"hoctap/accounts"
	"hoctap/internal/textfold"
)

// vnZone is Vietnam's time zone; dates of targets and plans are Vietnamese calendar days.
var vnZone = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*3600) // Vietnam has no daylight saving time
}()

// minElapsed is the shortest time a pace is measured over, so that a target created a
// minute ago is not projected from a few minutes of data into absurd figures.
const minElapsed = 24 * time.Hour

// ParseDue parses a due date "2025-12-31" and returns the instant that day ends in
// Vietnam (midnight at the start of the next day), in UTC. It returns an error wrapping
// errs.ErrInvalid for anything else.
func ParseDue(s string) (time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), vnZone)
	if err != nil {
		return time.Time{}, errInvalidField("due", "must be a date like 2025-12-31")
	}
	return d.AddDate(0, 0, 1).UTC(), nil
}

// OnPace decides a unit's pace for a target. The rule:
//
//   - nobody counted: PaceNoStaff, on track (there is nothing to do);
//   - percent done ≥ the target percent: PaceMet;
//   - due date passed: PaceOverdue;
//   - otherwise the pace since the target was created is projected to the due date,
//     projected = percent × (due − created) / max(now − created, 1 day), capped at 100;
//     PaceOnTrack when projected ≥ the target percent, PaceBehind when not.
//
// It returns the projected percent (one decimal) with the pace and whether that is on
// track (met, on track or no staff).
func OnPace(staff, done int, target float64, created, due, now time.Time) (projected float64, pace Pace, onTrack bool) {
	if staff <= 0 {
		return 0, PaceNoStaff, true
	}
	pct := 100 * float64(done) / float64(staff)
	switch {
	case pct+1e-9 >= target:
		return round1(pct), PaceMet, true
	case !now.Before(due):
		return round1(pct), PaceOverdue, false
	}
	elapsed := max(now.Sub(created), minElapsed)
	total := due.Sub(created)
	projected = min(100, pct*float64(total)/float64(elapsed))
	if projected < pct { // a due date closer than one day from creation
		projected = pct
	}
	if projected+1e-9 >= target {
		return round1(projected), PaceOnTrack, true
	}
	return round1(projected), PaceBehind, false
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// percentOf returns 100*part/whole with one decimal, 0 when whole is 0.
func percentOf(part, whole int) float64 {
	if whole <= 0 {
		return 0
	}
	return round1(100 * float64(part) / float64(whole))
}

// foldPositions returns the folded set of positions, nil when every position counts.
func foldPositions(positions []string) map[string]bool {
	if len(positions) == 0 {
		return nil
	}
	out := make(map[string]bool, len(positions))
	for _, p := range positions {
		if f := strings.TrimSpace(textfold.Fold(p)); f != "" {
			out[f] = true
		}
	}
	return out
}

// positionCounts reports whether a user with position is counted under the folded set.
func positionCounts(set map[string]bool, position string) bool {
	if set == nil {
		return true
	}
	return set[strings.TrimSpace(textfold.Fold(position))]
}

// unitTree is a subtree of units indexed for roll-ups.
type unitTree struct {
	root     accounts.Unit
	units    map[string]accounts.Unit
	children map[string][]string // unit id → child ids, in name order
	order    []string            // pre-order from the root: parents before children
}

// newUnitTree builds the subtree of all rooted at rootID. all must contain the root; units
// outside the subtree are ignored. Children are sorted by name (folded) and id.
func newUnitTree(all []accounts.Unit, rootID string) (*unitTree, bool) {
	t := &unitTree{units: map[string]accounts.Unit{}, children: map[string][]string{}}
	found := false
	for _, u := range all {
		if u.ID == rootID {
			t.root = u
			found = true
		}
	}
	if !found {
		return nil, false
	}
	for _, u := range all {
		if u.ID == rootID || slices.Contains(u.Path, rootID) {
			t.units[u.ID] = u
		}
	}
	for id, u := range t.units {
		if id == rootID {
			continue
		}
		t.children[u.ParentID] = append(t.children[u.ParentID], id)
	}
	fold := make(map[string]string, len(t.units))
	for id, u := range t.units {
		if u.NameFold != "" {
			fold[id] = u.NameFold
		} else {
			fold[id] = textfold.Fold(u.Name)
		}
	}
	for p, kids := range t.children {
		slices.SortFunc(kids, func(a, b string) int {
			if c := strings.Compare(fold[a], fold[b]); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		t.children[p] = kids
	}
	// Pre-order walk with an explicit stack: trees may be deep.
	stack := []string{rootID}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		t.order = append(t.order, id)
		kids := t.children[id]
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, kids[i])
		}
	}
	return t, true
}

// ids returns the ids of every unit of the tree, pre-order.
func (t *unitTree) ids() []string { return t.order }

// depth returns how far below the root unit id lies.
func (t *unitTree) depth(id string) int { return len(t.units[id].Path) - len(t.root.Path) }

func (t *unitTree) ref(id string) UnitRef {
	u := t.units[id]
	return UnitRef{ID: u.ID, Name: u.Name, Code: u.Code}
}

// contains reports whether unit id lies in the tree.
func (t *unitTree) contains(id string) bool { _, ok := t.units[id]; return ok }

// counted is a person a target counts, with whether they are done.
type counted struct {
	user     *accounts.User // points into the directory snapshot: never modified
	done     bool
	progress float64
}

// rollUp builds the status tree of t from the people counted (each in their current unit)
// and the pace rule. Every unit of the tree appears, also those with nobody counted. It
// returns the root node.
func rollUp(t *unitTree, people []counted, target float64, created, due, now time.Time) *StatusNode {
	nodes := make(map[string]*StatusNode, len(t.units))
	for _, id := range t.order {
		nodes[id] = &StatusNode{Unit: t.ref(id), Depth: t.depth(id), Children: []*StatusNode{}}
	}
	for _, p := range people {
		n, ok := nodes[p.user.UnitID]
		if !ok {
			continue
		}
		n.DirectStaff++
		if p.done {
			n.DirectDone++
		}
	}
	// Post-order: children are summed before their parents (reverse pre-order).
	for i := len(t.order) - 1; i >= 0; i-- {
		id := t.order[i]
		n := nodes[id]
		n.Staff += n.DirectStaff
		n.Done += n.DirectDone
		for _, kid := range t.children[id] {
			c := nodes[kid]
			n.Staff += c.Staff
			n.Done += c.Done
			n.Children = append(n.Children, c)
		}
		n.Percent = percentOf(n.Done, n.Staff)
		n.ProjectedPercent, n.Pace, n.OnTrack = OnPace(n.Staff, n.Done, target, created, due, now)
	}
	return nodes[t.root.ID]
}

// prune cuts the tree below maxDepth levels under n (0 keeps only n); negative keeps all.
func prune(n *StatusNode, maxDepth int) {
	if maxDepth < 0 {
		return
	}
	if maxDepth == 0 {
		n.Children = []*StatusNode{}
		return
	}
	for _, c := range n.Children {
		prune(c, maxDepth-1)
	}
}

// flatten returns the nodes of the tree pre-order.
func flatten(n *StatusNode) []*StatusNode {
	var out []*StatusNode
	stack := []*StatusNode{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		out = append(out, x)
		for i := len(x.Children) - 1; i >= 0; i-- {
			stack = append(stack, x.Children[i])
		}
	}
	return out
}

// FormatIntVN writes n with Vietnamese thousands separators: 4686 → "4.686".
func FormatIntVN(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatPercentVN writes a percent with one decimal and a decimal comma: 82.5 → "82,5%".
func FormatPercentVN(p float64) string {
	return strings.Replace(strconv.FormatFloat(round1(p), 'f', 1, 64), ".", ",", 1) + "%"
}

// PlanSummary phrases plan figures as personnel officers write them:
// "Đạt 82,5% so với kế hoạch (3.865/4.686 học viên)".
func PlanSummary(f PlanFigures) string {
	if f.Planned <= 0 {
		return "Chưa có kế hoạch (" + FormatIntVN(f.Completed) + " học viên hoàn thành)"
	}
	return "Đạt " + FormatPercentVN(f.CompletedPercent) + " so với kế hoạch (" +
		FormatIntVN(f.Completed) + "/" + FormatIntVN(f.Planned) + " học viên)"
}
