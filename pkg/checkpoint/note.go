package checkpoint

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Sign signs a checkpoint body with each signer and returns the signed note.
func Sign(body string, signers ...note.Signer) (string, error) {
	if _, err := Parse(body); err != nil {
		return "", err
	}
	if len(signers) == 0 {
		return "", errors.New("checkpoint: sign: no signers")
	}
	msg, err := note.Sign(&note.Note{Text: body}, signers...)
	if err != nil {
		return "", fmt.Errorf("checkpoint: sign: %w", err)
	}
	return string(msg), nil
}

// Verify opens a signed checkpoint of origin and returns its size and root.
// It is valid only with signatures from at least quorum distinct key names
// (institutions) among verifiers. Per C2SP, signatures by unknown keys are
// ignored, while a bad signature by a known key rejects the whole note.
func Verify(text string, origin string, verifiers []note.Verifier, quorum int) (size uint64, root []byte, err error) {
	if quorum < 1 {
		return 0, nil, fmt.Errorf("checkpoint: quorum %d: must be at least 1", quorum)
	}
	n, err := note.Open([]byte(text), note.VerifierList(unique(verifiers)...))
	if err != nil {
		return 0, nil, fmt.Errorf("checkpoint: open: %w", err)
	}
	names := make(map[string]bool)
	for _, s := range n.Sigs {
		names[s.Name] = true
	}
	if len(names) < quorum {
		return 0, nil, fmt.Errorf("checkpoint: %d valid signers, quorum is %d", len(names), quorum)
	}
	c, err := Parse(n.Text)
	if err != nil {
		return 0, nil, err
	}
	if c.Origin != origin {
		return 0, nil, fmt.Errorf("checkpoint: origin %q, want %q", c.Origin, origin)
	}
	return c.Size, c.Root, nil
}

// unique drops repeated verifiers (same name and key id), which note would
// otherwise report as ambiguous.
func unique(vs []note.Verifier) []note.Verifier {
	type nameHash struct {
		name string
		hash uint32
	}
	seen := make(map[nameHash]bool)
	var out []note.Verifier
	for _, v := range vs {
		k := nameHash{v.Name(), v.KeyHash()}
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}

// Merge combines signed notes of one body (for example each recorder's
// signature, collected by the leader) into one note with every distinct
// signature line. It does not verify the signatures; Verify does.
func Merge(notes ...string) (string, error) {
	if len(notes) == 0 {
		return "", errors.New("checkpoint: merge: no notes")
	}
	var body string
	var lines []string
	seen := make(map[string]bool)
	for i, n := range notes {
		text, sigs, err := split(n)
		if err != nil {
			return "", fmt.Errorf("checkpoint: merge: note %d: %w", i, err)
		}
		if i == 0 {
			body = text
		} else if text != body {
			return "", fmt.Errorf("checkpoint: merge: note %d has a different body", i)
		}
		for _, l := range sigs {
			if !seen[l] {
				seen[l] = true
				lines = append(lines, l)
			}
		}
	}
	return body + "\n" + strings.Join(lines, "\n") + "\n", nil
}

// split separates a signed note into its text and signature lines.
func split(msg string) (string, []string, error) {
	i := strings.LastIndex(msg, "\n\n")
	if i < 0 || !strings.HasSuffix(msg, "\n") {
		return "", nil, errors.New("malformed signed note")
	}
	text, sigs := msg[:i+1], strings.TrimSuffix(msg[i+2:], "\n")
	if sigs == "" {
		return "", nil, errors.New("signed note without signatures")
	}
	lines := strings.Split(sigs, "\n")
	for _, l := range lines {
		if !strings.HasPrefix(l, "— ") {
			return "", nil, fmt.Errorf("malformed signature line %q", l)
		}
	}
	return text, lines, nil
}
