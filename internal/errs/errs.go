// Package errs is the small error vocabulary shared by every domain package. Domain code
// wraps one of the sentinel errors with %w (or returns a *FieldError for invalid input);
// the HTTP edge alone maps them to status codes, so no domain package knows about HTTP.
package errs

import (
	"errors"
	"fmt"
	"maps"
)

// The sentinel errors. Each names one way a request can fail that a client can act on.
var (
	ErrInvalid         = errors.New("invalid")
	ErrNotFound        = errors.New("not found")
	ErrConflict        = errors.New("conflict")
	ErrForbidden       = errors.New("forbidden")
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrTooLarge        = errors.New("too large")
	ErrRateLimited     = errors.New("rate limited")
	ErrUnavailable     = errors.New("unavailable")
)

// FieldError is an invalid-input error that names the offending fields and why each is
// wrong. errors.Is(err, ErrInvalid) holds for it.
type FieldError struct {
	Message string
	Fields  map[string]string
}

// Error returns the message followed by the field reasons.
func (e *FieldError) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	return fmt.Sprintf("%s: %v", e.Message, e.Fields)
}

// Unwrap makes a FieldError match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Invalid returns a *FieldError with a message and an optional set of field reasons.
func Invalid(message string, fields map[string]string) error {
	return &FieldError{Message: message, Fields: maps.Clone(fields)}
}

// Field returns a *FieldError for a single field.
func Field(field, reason string) error {
	return &FieldError{Message: "invalid " + field + ": " + reason, Fields: map[string]string{field: reason}}
}

// Fields collects per-field reasons while validating input and turns them into one error.
// The zero value is ready to use.
type Fields map[string]string

// Add records why field is invalid; the first reason per field wins.
func (f *Fields) Add(field, reason string) {
	if *f == nil {
		*f = Fields{}
	}
	if _, ok := (*f)[field]; !ok {
		(*f)[field] = reason
	}
}

// Check records reason for field when bad is true.
func (f *Fields) Check(bad bool, field, reason string) {
	if bad {
		f.Add(field, reason)
	}
}

// Err returns nil when nothing was recorded, or a *FieldError naming every field.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &FieldError{Message: "the request has invalid fields", Fields: maps.Clone(map[string]string(f))}
}

// Code returns the API error code for err: one of invalid, not_found, conflict, forbidden,
// unauthenticated, too_large, rate_limited, unavailable, or internal for anything else.
func Code(err error) string {
	switch {
	case errors.Is(err, ErrInvalid):
		return "invalid"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrConflict):
		return "conflict"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, ErrUnauthenticated):
		return "unauthenticated"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	default:
		return "internal"
	}
}
