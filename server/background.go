package server

import (
	"context"
	"log/slog"
	"time"
)

// every runs job at each interval until ctx ends, logging failures: a failed run of a
// housekeeping job must not stop the server, and the next run retries it.
func every(ctx context.Context, interval time.Duration, log *slog.Logger, name string, job func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := job(ctx); err != nil && ctx.Err() == nil {
				log.Warn("background job failed; it will run again", "job", name, "err", err.Error())
			}
		}
	}
}
