package suite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// KeyFile is an institution's key on disk (DESIGN 9.2):
// {"institution", "key_id", "alg", "public", "private"}, keys in standard
// base64 with padding.
type KeyFile struct {
	Institution string `json:"institution"`
	KeyID       string `json:"key_id"`
	Alg         string `json:"alg"`
	Public      []byte `json:"public"`
	Private     []byte `json:"private"`
}

// NewKeyFile wraps k for institution, filling in its key id.
func NewKeyFile(institution string, k *PrivateKey) *KeyFile {
	return &KeyFile{
		Institution: institution,
		KeyID:       KeyID(k.Alg, k.Public),
		Alg:         k.Alg,
		Public:      bytes.Clone(k.Public),
		Private:     bytes.Clone(k.Private),
	}
}

// PrivateKey returns the key pair held in f.
func (f *KeyFile) PrivateKey() *PrivateKey {
	return &PrivateKey{Alg: f.Alg, Public: bytes.Clone(f.Public), Private: bytes.Clone(f.Private)}
}

// Check reports whether f is consistent: institution set, a valid key pair,
// and the key id that the public key implies.
func (f *KeyFile) Check() error {
	if f.Institution == "" {
		return fmt.Errorf("key file: institution is empty")
	}
	if err := f.PrivateKey().Check(); err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	if want := KeyID(f.Alg, f.Public); f.KeyID != want {
		return fmt.Errorf("key file: key_id is %q, the public key gives %q", f.KeyID, want)
	}
	return nil
}

// LoadKeyFile reads and checks the key file at path.
func LoadKeyFile(path string) (*KeyFile, error) {
	f, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	if err := f.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// readKeyFile decodes the key file at path, unchecked; "private" may be
// absent.
func readKeyFile(path string) (*KeyFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key file: %w", err)
	}
	var f KeyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parsing key file %s: %w", path, err)
	}
	return &f, nil
}

// Marshal returns the key file's bytes as Save writes them.
func (f *KeyFile) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding key file: %w", err)
	}
	return append(data, '\n'), nil
}

// Save writes f to path, readable by the owner only.
func (f *KeyFile) Save(path string) error {
	data, err := f.Marshal()
	if err != nil {
		return err
	}
	// WriteFile keeps the mode of an existing file; tighten it explicitly.
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing key file: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("writing key file: %w", err)
	}
	return nil
}

// PublicKeyFile is the part of a key file an institution hands to the
// consortium for its genesis or a member.update: no private key.
type PublicKeyFile struct {
	Institution string `json:"institution"`
	KeyID       string `json:"key_id"`
	Alg         string `json:"alg"`
	Public      []byte `json:"public"`
}

// PublicPart is f without its private key.
func (f *KeyFile) PublicPart() *PublicKeyFile {
	return &PublicKeyFile{Institution: f.Institution, KeyID: f.KeyID, Alg: f.Alg, Public: bytes.Clone(f.Public)}
}

// Check reports whether f names an institution and holds a valid public key
// with the key id it implies.
func (f *PublicKeyFile) Check() error {
	if f.Institution == "" {
		return fmt.Errorf("public key file: institution is empty")
	}
	if err := CheckPublicKey(f.Alg, f.Public); err != nil {
		return fmt.Errorf("public key file: %w", err)
	}
	if want := KeyID(f.Alg, f.Public); f.KeyID != want {
		return fmt.Errorf("public key file: key_id is %q, the public key gives %q", f.KeyID, want)
	}
	return nil
}

// LoadPublicKeyFile reads and checks a public key file at path. A whole key
// file is accepted too (its private key is ignored, never kept), so that an
// institution that runs the genesis itself need not export its own.
func LoadPublicKeyFile(path string) (*PublicKeyFile, error) {
	f, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	pub := f.PublicPart()
	if err := pub.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pub, nil
}

// Marshal returns the public key file's bytes.
func (f *PublicKeyFile) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding public key file: %w", err)
	}
	return append(data, '\n'), nil
}
