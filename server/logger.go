package server

import (
	"io"
	"log/slog"
)

// NewLogger returns the JSON logger the server writes to w at the named level.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // LoadConfig has validated it; unknown means info
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
