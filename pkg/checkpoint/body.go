package checkpoint

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Checkpoint is a parsed checkpoint body.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
}

// Body is the checkpoint text for a log head.
func Body(origin string, size uint64, root []byte) string {
	return origin + "\n" + strconv.FormatUint(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root) + "\n"
}

// Parse reads a checkpoint body (the note text, without signatures). It
// allows the extension lines C2SP permits after the root and ignores them.
func Parse(text string) (Checkpoint, error) {
	if !utf8.ValidString(text) {
		return Checkpoint{}, errors.New("checkpoint: not UTF-8")
	}
	if !strings.HasSuffix(text, "\n") {
		return Checkpoint{}, errors.New("checkpoint: text must end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return Checkpoint{}, fmt.Errorf("checkpoint: %d lines, want at least 3", len(lines))
	}
	for i, l := range lines {
		if l == "" {
			return Checkpoint{}, fmt.Errorf("checkpoint: line %d is empty", i+1)
		}
	}
	origin := lines[0]
	// The size is a plain decimal: no sign, no leading zeros, so that every
	// size has one spelling.
	sz := lines[1]
	if sz != "0" && (sz[0] < '1' || sz[0] > '9') {
		return Checkpoint{}, fmt.Errorf("checkpoint: size %q is not a canonical decimal", sz)
	}
	size, err := strconv.ParseUint(sz, 10, 64)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: size %q: %w", sz, err)
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: root: %w", err)
	}
	if len(root) != 32 {
		return Checkpoint{}, fmt.Errorf("checkpoint: root is %d bytes, want 32", len(root))
	}
	return Checkpoint{Origin: origin, Size: size, Root: root}, nil
}
