package trail

import (
	"context"
	"errors"
	"strings"
	"testing"
)

var errDown = errors.New("down")

type failing struct{}

func (failing) Record(context.Context, Entry) error { return errDown }

func TestEntriesBuiltFromOneStartShareNothing(t *testing.T) {
	start := Actor{ID: "a", Name: "admin", UnitID: "u"}.Did(UserCreate, "user:1", "lan").In("x").With("k", "v")
	one := start.With("only", "one").In("y").About("p")
	two := start.With("only", "two").In("z")
	if start.Details["only"] != "" || len(start.UnitIDs) != 1 || len(start.UserIDs) != 0 {
		t.Errorf("the start changed: %+v", start)
	}
	if one.Details["only"] != "one" || two.Details["only"] != "two" || one.UnitIDs[1] != "y" || two.UnitIDs[1] != "z" {
		t.Errorf("entries share state: %+v %+v", one, two)
	}
	if one.Actor != "a" || one.ActorName != "admin" || one.ActorUnitID != "u" || one.Action != UserCreate || one.ObjectLabel != "lan" {
		t.Errorf("entry %+v", one)
	}
}

func TestRecord(t *testing.T) {
	e := System.Did(CertificateIssue, "certificate:c", "HT-1")
	if err := Record(context.Background(), nil, e); err != nil {
		t.Errorf("no recorder: %v", err)
	}
	err := Record(context.Background(), failing{}, e)
	if !errors.Is(err, errDown) || !strings.Contains(err.Error(), "certificate.issue on certificate:c was done") {
		t.Errorf("a failing recorder: %v", err)
	}
}
