// Command hoctap runs the Hoctap learning-management server.
//
//	go run .            serve on :8080 with the embedded database (see README.md)
//	go run . -h         list every setting
//	hoctap backup --out FILE [--gzip] [settings]     archive the database and media (docs/OPERATIONS.md)
//	hoctap restore --in FILE [--force] [settings]    restore such an archive
//	hoctap restore --in FILE --check                 only check an archive
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // pages show Asia/Ho_Chi_Minh even in a minimal container

	"hoctap/server"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 {
		switch args[0] {
		case "serve":
			args = args[1:]
		case "healthcheck":
			return healthcheck(os.Getenv("HOCTAP_ADDR"))
		case "backup":
			return backupCommand(ctx, args[1:], os.Getenv, os.Stdout, os.Stderr)
		case "restore":
			return restoreCommand(ctx, args[1:], os.Getenv, os.Stdout, os.Stderr)
		}
	}
	cfg, err := server.LoadConfig(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hoctap: invalid configuration:", err)
		return 2
	}
	log := server.NewLogger(os.Stdout, cfg.LogLevel)
	if err := server.Run(ctx, cfg, log); err != nil {
		log.Error("hoctap stopped", "err", err.Error())
		return 1
	}
	return 0
}

// healthcheck asks the local server's /healthz, for container health checks in images
// that have no curl. It exits 0 when the server answers 200.
func healthcheck(addr string) int {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		port = "8080"
	}
	client := http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://127.0.0.1:" + port + "/healthz")
	if err != nil {
		fmt.Fprintln(os.Stderr, "hoctap healthcheck:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "hoctap healthcheck: status", resp.StatusCode)
		return 1
	}
	return 0
}
