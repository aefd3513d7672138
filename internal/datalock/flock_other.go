//go:build !unix && !windows

package datalock

import (
	"errors"
	"os"
)

var errLocked = errors.New("locked")

// lockFile is unsupported outside Unix and Windows (Plan 9, WebAssembly). Acquire then fails
// with this error instead of pretending to exclude other processes.
func lockFile(*os.File) error {
	return errors.New("locking the data directory is only supported on Unix and Windows")
}

func unlockFile(*os.File) error { return nil }
