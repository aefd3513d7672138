package datalock

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecondAcquireIsRefusedUntilRelease(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to the open file, so a second open in this process conflicts just
	// as another process would.
	_, err = Acquire(dir)
	if !errors.Is(err, ErrHeld) {
		t.Fatalf("second Acquire: %v, want ErrHeld", err)
	}
	if !strings.Contains(err.Error(), "process ") || !strings.Contains(err.Error(), FileName) {
		t.Errorf("the message does not name the holder and the file: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	l, err = Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l.Release()
}

func TestLockOfADeadProcessIsFree(t *testing.T) {
	if os.Getenv("DATALOCK_CHILD") != "" {
		if _, err := Acquire(os.Getenv("DATALOCK_CHILD")); err != nil {
			os.Exit(3)
		}
		os.Exit(0) // dies holding the lock
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockOfADeadProcessIsFree$")
	cmd.Env = append(os.Environ(), "DATALOCK_CHILD="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Fatalf("the child left no lock file: %v", err)
	}
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("a dead process's lock is still held: %v", err)
	}
	l.Release()
}
