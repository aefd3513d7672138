package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// check is one dependency that /readyz asks about.
type check struct {
	name string
	ping func(ctx context.Context) error
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz asks every dependency at once, each within two seconds, and answers 503 naming
// the ones that failed, so a load balancer stops sending traffic and an operator sees why.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	results := make(map[string]string, len(s.checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ch := range s.checks {
		wg.Go(func() {
			state := "ok"
			if err := ch.ping(ctx); err != nil {
				state = "unavailable: " + err.Error()
			}
			mu.Lock()
			results[ch.name] = state
			mu.Unlock()
		})
	}
	wg.Wait()
	status, down := http.StatusOK, []string{}
	for name, state := range results {
		if state != "ok" {
			status = http.StatusServiceUnavailable
			down = append(down, name)
		}
	}
	body := fiber.Map{"status": "ok", "checks": results}
	if status != http.StatusOK {
		body["status"] = "unavailable"
		body["down"] = down
	}
	return c.Status(status).JSON(body)
}

func (s *Server) metricsHandler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
}
