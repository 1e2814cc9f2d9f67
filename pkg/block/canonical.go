package block

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/creditchain/creditchain/pkg/canonjson"

	"github.com/creditchain/creditchain/pkg/suite"
)

// maxSafe is the largest integer JCS keeps exact (numbers are IEEE doubles);
// larger heights or sizes could make two headers hash alike.
const maxSafe = 1<<53 - 1

// ZeroHash is the prev of the genesis header.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// canonical returns JCS(JSON(v)).
func canonical(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return canonjson.Transform(b)
}

// hashOf is hex(hash(JCS(v))).
func hashOf(s suite.Suite, v any) (string, error) {
	b, err := canonical(v)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(s.Hash(b)), nil
}

// parseTime parses a contract time: RFC 3339 in UTC ("Z"), up to nanoseconds.
func parseTime(s string) (time.Time, error) {
	if len(s) == 0 || s[len(s)-1] != 'Z' {
		return time.Time{}, fmt.Errorf("time %q is not UTC (Z)", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", s, err)
	}
	return t, nil
}
