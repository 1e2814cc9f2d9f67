// Package apierr is the contract's error body (DESIGN 9.4):
// {"error": {"code": "...", "message": "..."}} with an HTTP status.
package apierr

import (
	"errors"
	"fmt"
)

// Error is a client-facing error with its HTTP status and contract code.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// New builds an Error.
func New(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Malformed is the 400 for bad input shape.
func Malformed(format string, args ...any) *Error {
	return New(400, "malformed", format, args...)
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Body is the JSON body of an error response.
type Body struct {
	Error *Error `json:"error"`
}
