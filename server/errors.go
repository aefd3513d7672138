package server

import (
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"hoctap/internal/database"
	"hoctap/internal/errs"
)

// errorBody is the JSON error of API.md.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

var statusByCode = map[string]int{
	"invalid":         http.StatusUnprocessableEntity,
	"not_found":       http.StatusNotFound,
	"conflict":        http.StatusConflict,
	"forbidden":       http.StatusForbidden,
	"unauthenticated": http.StatusUnauthorized,
	"too_large":       http.StatusRequestEntityTooLarge,
	"rate_limited":    http.StatusTooManyRequests,
	"unavailable":     http.StatusServiceUnavailable,
	"internal":        http.StatusInternalServerError,
}

// codeByStatus maps the errors Fiber itself raises (unknown route, body too large, bad
// method) into the same vocabulary.
func codeByStatus(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestTimeout:
		return "invalid"
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return "not_found"
	case http.StatusRequestEntityTooLarge, http.StatusRequestHeaderFieldsTooLarge, http.StatusRequestURITooLong:
		return "too_large"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusConflict:
		return "conflict"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "internal"
}

// errorHandler is the one place that turns an error into a response. Domain errors keep
// their message (it was written for the client); internal errors are logged with the
// request id and answered with a generic message, never their text.
func errorHandler(log *slog.Logger, pages PageErrorRenderer) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		detail, status := describe(err)
		if status == http.StatusInternalServerError {
			log.ErrorContext(c.UserContext(), "request failed", "request_id", requestID(c),
				"method", c.Method(), "route", routePath(c), "err", err.Error())
		}
		if status == http.StatusServiceUnavailable {
			// The client gets a short reason (see unavailableMessage); the operator the cause.
			log.WarnContext(c.UserContext(), "request failed: a dependency is unavailable", "request_id", requestID(c),
				"method", c.Method(), "route", routePath(c), "err", err.Error())
		}
		if status == http.StatusUnauthorized && !strings.HasPrefix(c.Path(), "/api/") {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="hoctap"`)
		}
		if pages != nil && wantsHTML(c) {
			return pages.RenderError(c, status, detail.Code, detail.Message)
		}
		return c.Status(status).JSON(errorBody{Error: detail})
	}
}

// PageErrorRenderer renders an error as an HTML page for browsers; the frontend supplies it.
type PageErrorRenderer interface {
	RenderError(c *fiber.Ctx, status int, code, message string) error
}

func describe(err error) (errorDetail, int) {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code := codeByStatus(fe.Code)
		msg := fe.Message
		if fe.Code == http.StatusRequestEntityTooLarge {
			msg = "the request body is too large"
		}
		if code == "internal" {
			msg = "internal error"
		}
		if fe.Code == http.StatusRequestHeaderFieldsTooLarge || fe.Code == http.StatusRequestURITooLong {
			return errorDetail{Code: code, Message: msg}, fe.Code // more precise than 413
		}
		if fe.Code == http.StatusRequestTimeout {
			// fasthttp's answer to a connection that sent no whole request within
			// ReadTimeout (a client that opened one and never used it): the client's doing,
			// not a server error to log.
			return errorDetail{Code: code, Message: "the request did not arrive in time"}, fe.Code
		}
		return errorDetail{Code: code, Message: msg}, statusByCode[code]
	}
	code := errs.Code(err)
	if code == "internal" && database.IsUnavailable(err) {
		// A database outage that a domain package did not mark as ErrUnavailable is still an
		// outage: 503 tells clients and load balancers to try again, 500 would say "bug".
		code = "unavailable"
	}
	d := errorDetail{Code: code, Message: err.Error()}
	var field *errs.FieldError
	if errors.As(err, &field) {
		d.Message, d.Fields = field.Message, field.Fields
	}
	if code == "internal" {
		d.Message = "internal error"
	}
	if code == "unavailable" {
		d.Message = unavailableMessage(err, d.Message)
	}
	return d, statusByCode[code]
}

// unavailableMessage replaces the text of a database or storage outage, which names hosts,
// ports and driver internals, with what a client can act on. Other unavailable errors
// (shutting down, a room that closed) keep the message their package wrote.
func unavailableMessage(err error, msg string) string {
	var urlErr *url.Error
	var netErr *net.OpError
	var pathErr *fs.PathError
	switch {
	case database.IsUnavailable(err):
		return "the database is not answering; try again in a moment"
	case errors.As(err, &urlErr) || errors.As(err, &netErr) || errors.As(err, &pathErr):
		return "the media storage is not answering; try again in a moment"
	}
	return msg
}

func wantsHTML(c *fiber.Ctx) bool {
	if strings.HasPrefix(c.Path(), "/api/") || strings.HasPrefix(c.Path(), "/ws/") {
		return false
	}
	return strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
}
