// Package canonjson canonicalizes JSON (RFC 8785, JCS) cheaply when it is
// canonical already. Every transaction is canonicalized by intake, and
// again by every recorder and replica that decodes it (its id, its
// signature and its Merkle leaf are all over canonical bytes); in a running
// network nearly all of those inputs are canonical. IsCanonical recognizes
// them in one pass without allocating; anything it is unsure about (floats,
// exponents, non-ASCII member names, deep nesting) goes to
// github.com/gowebpki/jcs, which stays the only definition of the form.
package canonjson

import (
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// maxDepth bounds the scanner's recursion; deeper input is left to jcs.
const maxDepth = 64

// maxSafeInteger is the largest integer an IEEE double holds exactly: a
// larger one would be rewritten by JCS.
const maxSafeInteger = 1<<53 - 1

// Transform returns the JCS form of data: data itself when it is canonical
// already, else what jcs.Transform makes of it (or its error).
func Transform(data []byte) ([]byte, error) {
	if IsCanonical(data) {
		return data, nil
	}
	return jcs.Transform(data)
}

// IsCanonical reports whether data is one JSON value in JCS form that
// jcs.Transform would return unchanged. False means "not known to be":
// the caller falls back to jcs.
func IsCanonical(data []byte) bool {
	s := scanner{data: data}
	return s.value(0) && s.pos == len(data)
}

type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) value(depth int) bool {
	if s.pos >= len(s.data) || depth > maxDepth {
		return false
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(depth)
	case c == '[':
		return s.array(depth)
	case c == '"':
		return s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.integer()
	default:
		return s.literal("true") || s.literal("false") || s.literal("null")
	}
}

func (s *scanner) literal(word string) bool {
	if len(s.data)-s.pos >= len(word) && string(s.data[s.pos:s.pos+len(word)]) == word {
		s.pos += len(word)
		return true
	}
	return false
}

// object accepts members whose names are plain ASCII (no escapes) in
// strictly increasing byte order: for ASCII that is JCS's UTF-16 order,
// and "strictly" also rules out duplicates.
func (s *scanner) object(depth int) bool {
	s.pos++ // '{'
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return true
	}
	var prev []byte
	for first := true; ; first = false {
		name, ok := s.asciiName()
		if !ok || (!first && string(name) <= string(prev)) {
			return false
		}
		prev = name
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return false
		}
		s.pos++
		if !s.value(depth + 1) {
			return false
		}
		if done, ok := s.separator('}'); !ok || done {
			return ok
		}
	}
}

func (s *scanner) asciiName() ([]byte, bool) {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, false
	}
	start := s.pos + 1
	for i := start; i < len(s.data); i++ {
		switch c := s.data[i]; {
		case c == '"':
			s.pos = i + 1
			return s.data[start:i], true
		case c < 0x20 || c == '\\' || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

func (s *scanner) array(depth int) bool {
	s.pos++ // '['
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return true
	}
	for {
		if !s.value(depth + 1) {
			return false
		}
		if done, ok := s.separator(']'); !ok || done {
			return ok
		}
	}
}

// separator consumes what follows a member or item: ',' (more to come) or
// the closing bracket (done).
func (s *scanner) separator(closing byte) (done, ok bool) {
	if s.pos >= len(s.data) {
		return false, false
	}
	switch s.data[s.pos] {
	case ',':
		s.pos++
		return false, true
	case closing:
		s.pos++
		return true, true
	}
	return false, false
}

// str accepts a string as JCS writes it: UTF-8 literally (U+2028, DEL and
// '/' included), the short escapes for '"', '\\', \b \f \n \r \t, and
// \u00xx in lowercase hex for the other control characters only.
func (s *scanner) str() bool {
	i := s.pos + 1
	for i < len(s.data) {
		c := s.data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return true
		case c == '\\':
			if i+1 >= len(s.data) {
				return false
			}
			switch s.data[i+1] {
			case '"', '\\', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s.data) || s.data[i+2] != '0' || s.data[i+3] != '0' {
					return false
				}
				hi, lo := s.data[i+4], s.data[i+5]
				if hi != '0' && hi != '1' || !isLowerHex(lo) {
					return false
				}
				switch v := (hi-'0')<<4 | hexValue(lo); v {
				case '\b', '\f', '\n', '\r', '\t':
					return false // JCS uses the short escape
				}
				i += 6
			default:
				return false
			}
		case c < 0x20:
			return false
		case c < 0x80:
			i++
		default:
			r, size := utf8.DecodeRune(s.data[i:])
			if r == utf8.RuneError && size <= 1 {
				return false
			}
			i += size
		}
	}
	return false
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

func hexValue(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// integer accepts -?(0|[1-9][0-9]*) within the safe range, and not -0: the
// numbers JCS writes as plain digits. Fractions and exponents go to jcs.
func (s *scanner) integer() bool {
	i := s.pos
	neg := s.data[i] == '-'
	if neg {
		i++
	}
	start := i
	var v uint64
	for i < len(s.data) && s.data[i] >= '0' && s.data[i] <= '9' {
		v = v*10 + uint64(s.data[i]-'0')
		i++
		if i-start > 16 {
			return false
		}
	}
	digits := i - start
	if digits == 0 || (digits > 1 && s.data[start] == '0') || v > maxSafeInteger || (neg && v == 0) {
		return false
	}
	if i < len(s.data) {
		if c := s.data[i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	s.pos = i
	return true
}
