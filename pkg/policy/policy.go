package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"unicode/utf8"
)

// Policy is an exit policy as it appears on the ledger (DESIGN 9.5): the
// payload of policy.propose and an entry of the genesis.
type Policy struct {
	ID          string `json:"id"`
	Version     int    `json:"version"`
	Eligible    string `json:"eligible"`
	Due         string `json:"due"`
	PurgeAfter  string `json:"purge_after"`
	Description string `json:"description"`
}

// idPattern keeps policy ids usable as categories, URL segments and file
// names: lowercase words joined by hyphens.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

const (
	maxIDBytes          = 64
	maxDescriptionBytes = 4096
	maxVersion          = 1 << 31
)

// Validate checks everything about p except its expressions, which Compile
// checks.
func (p *Policy) Validate() error {
	if len(p.ID) > maxIDBytes || !idPattern.MatchString(p.ID) {
		return fmt.Errorf("policy id %q: must be lowercase words joined by hyphens, at most %d bytes", p.ID, maxIDBytes)
	}
	if p.Version < 1 || p.Version > maxVersion {
		return fmt.Errorf("policy %s: version %d: must be between 1 and %d", p.ID, p.Version, maxVersion)
	}
	if p.Eligible == "" {
		return fmt.Errorf("policy %s v%d: eligible is empty", p.ID, p.Version)
	}
	if p.Due == "" {
		return fmt.Errorf("policy %s v%d: due is empty", p.ID, p.Version)
	}
	if _, err := ParseDuration(p.PurgeAfter); err != nil {
		return fmt.Errorf("policy %s v%d: purge_after: %w", p.ID, p.Version, err)
	}
	if p.Description == "" || len(p.Description) > maxDescriptionBytes {
		return fmt.Errorf("policy %s v%d: description must be 1 to %d bytes", p.ID, p.Version, maxDescriptionBytes)
	}
	return nil
}

// Decode parses a policy object strictly: every member is required, none may
// be null, unknown or repeated, and nothing may follow the object. It also
// runs Validate; it does not compile the expressions.
func Decode(raw []byte) (*Policy, error) {
	if !utf8.Valid(raw) {
		return nil, errors.New("policy: not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	var p Policy
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		key := tok.(string) // object keys are always strings
		if seen[key] {
			return nil, fmt.Errorf("policy: member %q repeated", key)
		}
		seen[key] = true
		if err := decodeMember(dec, key, &p); err != nil {
			return nil, fmt.Errorf("policy: %s: %w", key, err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("policy: data after the object")
	}
	for _, name := range []string{"id", "version", "eligible", "due", "purge_after", "description"} {
		if !seen[name] {
			return nil, fmt.Errorf("policy: member %q missing", name)
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %v", want, tok)
	}
	return nil
}

func decodeMember(dec *json.Decoder, key string, p *Policy) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if key == "version" {
		n, ok := tok.(json.Number)
		if !ok {
			return fmt.Errorf("must be an integer, found %v", describe(tok))
		}
		v, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || v < 1 || v > maxVersion {
			return fmt.Errorf("must be an integer between 1 and %d, found %s", maxVersion, n)
		}
		p.Version = int(v)
		return nil
	}
	var dst *string
	switch key {
	case "id":
		dst = &p.ID
	case "eligible":
		dst = &p.Eligible
	case "due":
		dst = &p.Due
	case "purge_after":
		dst = &p.PurgeAfter
	case "description":
		dst = &p.Description
	default:
		return errors.New("unknown member")
	}
	s, ok := tok.(string)
	if !ok {
		return fmt.Errorf("must be a string, found %v", describe(tok))
	}
	*dst = s
	return nil
}

// describe names a JSON token for error messages without echoing large input.
func describe(tok any) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		return "an array or object"
	case bool:
		return "a boolean"
	case json.Number:
		return "the number " + string(t)
	case string:
		return "a string"
	}
	return fmt.Sprintf("%T", tok)
}
