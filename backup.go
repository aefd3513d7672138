package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"hoctap/backup"
	"hoctap/server"
)

// backupCommand is `hoctap backup --out FILE [--gzip] [server settings]`: it archives the
// database and the media store the settings name (see package backup). It exits 0 on
// success, 2 on bad usage or settings, 1 when the backup fails.
func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var out string
	var gz bool
	rest, err := takeFlags(args, map[string]*string{"out": &out}, map[string]*bool{"gzip": &gz})
	if err != nil || out == "" {
		fmt.Fprintln(stderr, "usage: hoctap backup --out FILE [--gzip] [settings as for the server, see hoctap -h]")
		return 2
	}
	gz = gz || strings.HasSuffix(out, ".gz") || strings.HasSuffix(out, ".tgz")
	st, code := openStorage(ctx, "backup", rest, getenv, stderr)
	if st == nil {
		return code
	}
	defer st.Close(context.WithoutCancel(ctx))
	m, err := backup.WriteFile(ctx, out, st.DB.Database, st.Store, backup.Options{Gzip: gz})
	if err != nil {
		fmt.Fprintln(stderr, "hoctap backup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "backed up %d collections (%d documents) and %d objects (%d bytes) of database %q to %s\n",
		len(m.Collections), m.Documents(), len(m.Objects), m.Bytes(), m.Database, out)
	return 0
}

// restoreCommand is `hoctap restore --in FILE [--force] [server settings]`: it checks the
// archive whole, then restores it into the database and media store the settings name,
// refusing a target that holds data unless --force. With --check it only checks the
// archive. Exit codes as backupCommand; a target that is not empty or an archive that is
// not sound exits 1 having changed nothing.
func restoreCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var in string
	var force, check bool
	rest, err := takeFlags(args, map[string]*string{"in": &in}, map[string]*bool{"force": &force, "check": &check})
	if err != nil || in == "" {
		fmt.Fprintln(stderr, "usage: hoctap restore --in FILE [--force] [settings as for the server, see hoctap -h]\n"+
			"       hoctap restore --in FILE --check    (only check the archive; no database or store is opened)")
		return 2
	}
	f, err := os.Open(in)
	if err != nil {
		fmt.Fprintln(stderr, "hoctap restore:", err)
		return 1
	}
	defer f.Close()
	if check {
		m, err := backup.Verify(f)
		if err != nil {
			fmt.Fprintln(stderr, "hoctap restore --check:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s is a complete backup of %s (format %d): %d collections (%d documents) and %d objects (%d bytes); every entry matches its checksum\n",
			in, m.CreatedAt.Format(time.RFC3339), m.Format, len(m.Collections), m.Documents(), len(m.Objects), m.Bytes())
		return 0
	}
	st, code := openStorage(ctx, "restore", rest, getenv, stderr)
	if st == nil {
		return code
	}
	defer st.Close(context.WithoutCancel(ctx))
	rep, err := backup.Restore(ctx, f, st.DB.Database, st.Store, backup.RestoreOptions{Force: force})
	if err != nil {
		fmt.Fprintln(stderr, "hoctap restore:", err)
		return 1
	}
	if len(rep.Dropped) > 0 || rep.DeletedObjects > 0 {
		fmt.Fprintf(stdout, "--force: dropped %d collections and deleted %d objects the archive does not have\n", len(rep.Dropped), rep.DeletedObjects)
	}
	fmt.Fprintf(stdout, "restored %d collections (%d documents) and %d objects (%d bytes) from the backup of %s into database %q; counts and sizes match the archive\n",
		rep.Collections, rep.Documents, rep.Objects, rep.Bytes, rep.Manifest.CreatedAt.Format(time.RFC3339), st.DB.Database.Name())
	fmt.Fprintln(stdout, "indexes are created when the server starts")
	return 0
}

// openStorage loads the server's settings from args and the environment and opens its
// database and store. It returns nil and the exit code on failure, having said why.
func openStorage(ctx context.Context, cmd string, args []string, getenv func(string) string, stderr io.Writer) (*server.Storage, int) {
	cfg, err := server.LoadConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil, 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "hoctap %s: invalid configuration: %v\n", cmd, err)
		return nil, 2
	}
	log := server.NewLogger(stderr, "error") // FerretDB warns about every endSessions it does not know
	st, err := server.OpenStorage(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "hoctap %s: %v\n", cmd, err)
		return nil, 1
	}
	return st, 0
}

// takeFlags removes the command's own flags (-name value, -name=value, with one or two
// dashes; booleans take no value) from args and returns the rest, which are the server's
// settings.
func takeFlags(args []string, strs map[string]*string, bools map[string]*bool) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		if p, ok := strs[name]; ok {
			if !hasValue {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("-%s needs a value", name)
				}
				i++
				value = args[i]
			}
			*p = value
			continue
		}
		if p, ok := bools[name]; ok {
			b := true
			if hasValue {
				var err error
				if b, err = parseBool(value); err != nil {
					return nil, fmt.Errorf("-%s: %w", name, err)
				}
			}
			*p = b
			continue
		}
		rest = append(rest, a)
	}
	return rest, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "t", "true":
		return true, nil
	case "0", "f", "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}
