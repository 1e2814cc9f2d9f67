package signer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FontEnv names the environment variable that points at the CJK font.
const FontEnv = "CREDITCHAIN_CJK_FONT"

// fontCandidates are TrueType-outline CJK fonts from Debian packages, best
// first (fonts-wqy-microhei, fonts-wqy-zenhei, fonts-droid-fallback). The
// CFF-based Noto CJK fonts are not listed: the PDF writer embeds glyf
// outlines only.
var fontCandidates = []string{"wqy-microhei.ttc", "wqy-zenhei.ttc", "DroidSansFallbackFull.ttf", "DroidSansFallback.ttf"}

// FontSearchDir is where FindFont looks when no path is configured.
var FontSearchDir = "/usr/share/fonts"

// FindFont returns the CJK font file to render certificates with: path if
// set, else $CREDITCHAIN_CJK_FONT, else the first known font under
// FontSearchDir. Fonts are not shipped with the project (licences, size):
// .ci/run installs fonts-wqy-microhei.
func FindFont(path string) (string, error) {
	if path == "" {
		path = os.Getenv(FontEnv)
	}
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("CJK font: %w", err)
		}
		return path, nil
	}
	found := map[string]string{}
	_ = filepath.WalkDir(FontSearchDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if _, seen := found[d.Name()]; !seen {
				found[d.Name()] = p
			}
		}
		return nil
	})
	for _, name := range fontCandidates {
		if p, ok := found[name]; ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("no CJK font found under %s (install fonts-wqy-microhei, or set %s or --cjk-font to a TrueType .ttf/.ttc)", FontSearchDir, FontEnv)
}

// LoadFont reads a TrueType font, taking the first face of a collection
// (.ttc): the PDF writer reads single-face .ttf files only.
func LoadFont(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CJK font: %w", err)
	}
	if strings.HasPrefix(string(data[:min(4, len(data))]), "ttcf") {
		if data, err = firstFace(data); err != nil {
			return nil, fmt.Errorf("CJK font %s: %w", path, err)
		}
	}
	if len(data) < 4 || binary.BigEndian.Uint32(data) != 0x00010000 && string(data[:4]) != "true" {
		return nil, fmt.Errorf("CJK font %s: not a TrueType-outline font", path)
	}
	return data, nil
}

// firstFace extracts face 0 of a TrueType collection as a standalone font:
// the face's table directory is copied with its tables laid out anew
// (table offsets in a collection are relative to the whole file).
func firstFace(ttc []byte) ([]byte, error) {
	short := errors.New("truncated TrueType collection")
	if len(ttc) < 16 || binary.BigEndian.Uint32(ttc[8:]) == 0 {
		return nil, short
	}
	off := int(binary.BigEndian.Uint32(ttc[12:]))
	if off+12 > len(ttc) {
		return nil, short
	}
	n := int(binary.BigEndian.Uint16(ttc[off+4:]))
	dir := off + 12
	if dir+16*n > len(ttc) {
		return nil, short
	}
	out := make([]byte, 12+16*n)
	copy(out, ttc[off:off+12])
	for i := range n {
		rec := ttc[dir+16*i : dir+16*i+16]
		start, length := int(binary.BigEndian.Uint32(rec[8:])), int(binary.BigEndian.Uint32(rec[12:]))
		if start < 0 || length < 0 || start+length > len(ttc) {
			return nil, short
		}
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		o := out[12+16*i : 12+16*i+16]
		copy(o, rec[:8]) // tag and checksum are unchanged
		binary.BigEndian.PutUint32(o[8:], uint32(len(out)))
		binary.BigEndian.PutUint32(o[12:], uint32(length))
		out = append(out, ttc[start:start+length]...)
	}
	return out, nil
}
