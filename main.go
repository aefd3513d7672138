// Command hoctap runs the Hoctap learning-management server.
//
//	go run .            serve on :8080 with the embedded database (see README.md)
//	go run . -h         list every setting
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // pages show Asia/Ho_Chi_Minh even in a minimal container

	"hoctap/server"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
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
