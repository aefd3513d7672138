// Package datalock keeps two Hoctap processes from opening the same data directory's
// embedded database at once. The embedded FerretDB runs inside the process that opened it,
// so a second process (a backup, a restore, a second server) would open the same SQLite
// files beside the first one and could read half-written state or corrupt them. Every
// process that opens the embedded database first takes an exclusive lock on
// DATA_DIR/hoctap.lock and keeps it until it stops; the operating system drops the lock when
// the process dies, so a crash leaves nothing to clean up.
package datalock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FileName is the lock file's name inside the data directory.
const FileName = "hoctap.lock"

// ErrHeld is wrapped by Acquire's error when another process holds the lock.
var ErrHeld = errors.New("the data directory is in use by another Hoctap process")

// Lock is a held lock; Release gives it up.
type Lock struct {
	f *os.File
}

// Acquire takes the lock on dir (created when missing) without waiting. It returns an error
// wrapping ErrHeld, naming the holder's process id when known, when another process holds
// it, or the file-system error.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory lock: %w", err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("data directory lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				holder = fmt.Sprintf(" (process %d)", pid)
			}
		}
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("%w%s: %s is locked; stop that process first", ErrHeld, holder, path)
		}
		return nil, fmt.Errorf("data directory lock %s: %w", path, err)
	}
	// The process id is only for the message above; the lock itself is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up. It is safe to call more than once.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlockFile(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("data directory lock: %w", err)
	}
	return nil
}
