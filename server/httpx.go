package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/internal/errs"
)

// decodeJSON reads the request body into dst, strictly: the body must be one JSON value of
// the right shape, with no unknown fields, within the JSON size limit. It returns errs
// invalid (naming the field for wrong types and unknown fields) or too large.
func (s *Server) decodeJSON(c *fiber.Ctx, dst any) error {
	body := c.Body()
	if len(body) > s.cfg.MaxJSONKB*1024 {
		return fmt.Errorf("the JSON body is over %d KB: %w", s.cfg.MaxJSONKB, errs.ErrTooLarge)
	}
	if ct := c.Get(fiber.HeaderContentType); ct != "" && !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return errs.Invalid("the body must be JSON (Content-Type: application/json)", nil)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errs.Invalid("the request body is empty; it must be a JSON object", nil)
	}
	return decodeStrict(body, dst)
}

// decodeStrict decodes one JSON value with no unknown fields and nothing after it.
func decodeStrict(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errs.Invalid("the body must hold exactly one JSON value", nil)
	}
	return nil
}

func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return errs.Invalid("the body must be a JSON object", nil)
		}
		return errs.Field(field, "must be "+jsonKind(typeErr.Type.Kind().String()))
	case errors.As(err, &syntaxErr):
		return errs.Invalid(fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset), nil)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errs.Invalid("malformed JSON: the body ends too early", nil)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errs.Field(name, "unknown field")
	}
	return errs.Invalid("malformed JSON: "+err.Error(), nil)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "float64", "float32", "uint", "uint64":
		return "a number"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "of another type"
}

// pageParams reads limit (default 50, at most 500) and offset from the query string and
// refuses malformed ones.
func pageParams(c *fiber.Ctx) (limit, offset int, err error) {
	var fields errs.Fields
	limit, offset = 50, 0
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		fields.Check(err != nil || n < 1 || n > 500, "limit", "must be a whole number from 1 to 500")
		limit = n
	}
	if v := c.Query("offset"); v != "" {
		n, err := strconv.Atoi(v)
		fields.Check(err != nil || n < 0, "offset", "must be a whole number of at least 0")
		offset = n
	}
	return limit, offset, fields.Err()
}

// boolQuery reads an optional true/false query parameter.
func boolQuery(c *fiber.Ctx, name string) (bool, error) {
	v := c.Query(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errs.Field(name, "must be true or false")
	}
	return b, nil
}

// list is the shape of every list response.
type list[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

func newList[T any](items []T, total int) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items, Total: total}
}

// noContentByID is byID for a service call that answers nothing (DELETE /targets/:id,
// …): the route answers 204.
func noContentByID(fn func(context.Context, accounts.Principal, string) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		if err := fn(c.UserContext(), principal(c), id); err != nil {
			return err
		}
		return c.SendStatus(http.StatusNoContent)
	}
}

// listByID is byID for a service call that answers a whole list: the route answers it as
// {"items","total"} (GET /quizzes/:id/essays, …).
func listByID[T any](fn func(context.Context, accounts.Principal, string) ([]T, error)) fiber.Handler {
	return byID(func(ctx context.Context, p accounts.Principal, id string) (list[T], error) {
		items, err := fn(ctx, p, id)
		return newList(items, len(items)), err
	})
}

// withBody is the handler of a route that answers with status and what fn returns for the
// caller and the request's JSON body (POST /courses, …). It lists B among the body types
// the decoder fuzz test covers.
func withBody[B, T any](s *Server, status int, fn func(context.Context, accounts.Principal, B) (T, error)) fiber.Handler {
	s.bodyTypes = append(s.bodyTypes, reflect.TypeFor[B]())
	return func(c *fiber.Ctx) error {
		var body B
		if err := s.decodeJSON(c, &body); err != nil {
			return err
		}
		v, err := fn(c.UserContext(), principal(c), body)
		if err != nil {
			return err
		}
		return c.Status(status).JSON(v)
	}
}

// byIDWithBody is withBody for a route with an id in its path (PUT /quizzes/:id, POST
// /courses/:id/modules, …): fn gets the caller, the id and the body.
func byIDWithBody[B, T any](s *Server, status int, fn func(context.Context, accounts.Principal, string, B) (T, error)) fiber.Handler {
	s.bodyTypes = append(s.bodyTypes, reflect.TypeFor[B]())
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		var body B
		if err := s.decodeJSON(c, &body); err != nil {
			return err
		}
		v, err := fn(c.UserContext(), principal(c), id, body)
		if err != nil {
			return err
		}
		return c.Status(status).JSON(v)
	}
}

// byID is the handler of a route that answers what fn returns for the caller and the
// path's id (GET /courses/:id, POST /courses/:id/publish, …); errors go to the error
// handler like any other.
func byID[T any](fn func(context.Context, accounts.Principal, string) (T, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		v, err := fn(c.UserContext(), principal(c), id)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}
