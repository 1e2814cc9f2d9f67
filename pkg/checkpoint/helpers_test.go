package checkpoint

import (
	"encoding/base64"
	"encoding/binary"
	"testing"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func unb64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withKeyID replaces the 4-byte key id in front of a signature field.
func withKeyID(t *testing.T, id uint32, field string) string {
	t.Helper()
	b := unb64(t, field)
	binary.BigEndian.PutUint32(b[:4], id)
	return b64(b)
}
