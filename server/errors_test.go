package server

import (
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// Errors Fiber and fasthttp raise themselves map into API.md's vocabulary, with the most
// precise status.
func TestDescribeFiberErrors(t *testing.T) {
	cases := []struct {
		err        *fiber.Error
		wantStatus int
		wantCode   string
	}{
		{fiber.ErrRequestTimeout, http.StatusRequestTimeout, "invalid"},
		{fiber.ErrRequestHeaderFieldsTooLarge, http.StatusRequestHeaderFieldsTooLarge, "too_large"},
		{fiber.ErrRequestEntityTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
		{fiber.ErrNotFound, http.StatusNotFound, "not_found"},
		{fiber.ErrMethodNotAllowed, http.StatusNotFound, "not_found"},
		{fiber.ErrBadRequest, http.StatusUnprocessableEntity, "invalid"},
		{fiber.ErrTeapot, http.StatusInternalServerError, "internal"},
	}
	for _, c := range cases {
		d, status := describe(c.err)
		if status != c.wantStatus || d.Code != c.wantCode || d.Message == "" {
			t.Errorf("%d %s: status %d code %q message %q, want %d %q", c.err.Code, c.err.Message, status, d.Code, d.Message, c.wantStatus, c.wantCode)
		}
	}
}
