package block

import (
	"encoding/base64"
	"fmt"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/suite"
)

// Cosignature is a recorder's signature over a block hash.
type Cosignature struct {
	Institution string `json:"institution"`
	KeyID       string `json:"key_id"`
	Sig         string `json:"sig"` // base64url, no padding
}

// CosignMessage is what a cosignature signs: the ASCII bytes
// "creditchain-block-v1:<chain id>:<hex block hash>".
func CosignMessage(chain, blockHash string) []byte {
	return []byte("creditchain-block-v1:" + chain + ":" + blockHash)
}

// Cosign signs a block hash as institution with key k, whose key id is keyID.
func Cosign(s suite.Suite, k *suite.PrivateKey, institution, keyID, chain, hash string) (Cosignature, error) {
	if k == nil {
		return Cosignature{}, fmt.Errorf("block: cosign as %s: no key", institution)
	}
	if want := suite.KeyID(k.Alg, k.Public); keyID != want {
		return Cosignature{}, fmt.Errorf("block: cosign as %s: key id %q does not match the key (%q)", institution, keyID, want)
	}
	sig, err := s.Sign(k, CosignMessage(chain, hash))
	if err != nil {
		return Cosignature{}, fmt.Errorf("block: cosign as %s: %w", institution, err)
	}
	return Cosignature{Institution: institution, KeyID: keyID, Sig: base64.RawURLEncoding.EncodeToString(sig)}, nil
}

// VerifyCosignatures checks that cosigs are valid signatures over hash by
// distinct active recorders of epoch, at least as many as rule demands.
// Every cosignature must be good: an unknown signer, an unknown key, a
// duplicate or a bad signature fails the block rather than being ignored,
// so a block never carries garbage. Errors are *VerifyError with check
// "cosignatures" or "quorum".
func VerifyCosignatures(s suite.Suite, chain, hash string, cosigs []Cosignature, epoch *membership.Epoch, rule string) error {
	if epoch == nil {
		return verr(0, "quorum", "no membership epoch")
	}
	recorders := epoch.Recorders()
	need, err := membership.QuorumSize(rule, len(recorders))
	if err != nil {
		return verr(0, "quorum", "%v", err)
	}
	if len(recorders) == 0 {
		return verr(0, "quorum", "epoch %d has no active recorders", epoch.Epoch)
	}
	msg := CosignMessage(chain, hash)
	seen := make(map[string]bool, len(cosigs))
	for i, c := range cosigs {
		m := recorder(recorders, c.Institution)
		if m == nil {
			return verr(0, "cosignatures", "cosignature %d: %q is not an active recorder of epoch %d", i, c.Institution, epoch.Epoch)
		}
		if seen[c.Institution] {
			return verr(0, "cosignatures", "cosignature %d: %s cosigned twice", i, c.Institution)
		}
		seen[c.Institution] = true
		k, ok := m.Key(c.KeyID)
		if !ok {
			return verr(0, "cosignatures", "cosignature %d: %s has no key %q", i, c.Institution, c.KeyID)
		}
		if k.Alg != s.Name() {
			return verr(0, "cosignatures", "cosignature %d: key %s is %s, chain suite is %s", i, c.KeyID, k.Alg, s.Name())
		}
		sig, err := base64.RawURLEncoding.Strict().DecodeString(c.Sig)
		if err != nil {
			return verr(0, "cosignatures", "cosignature %d by %s: sig is not base64url without padding", i, c.Institution)
		}
		if !s.Verify(k.Public, msg, sig) {
			return verr(0, "cosignatures", "cosignature %d by %s: bad signature", i, c.Institution)
		}
	}
	if len(seen) < need {
		return verr(0, "quorum", "%d cosignatures, quorum (%s) of %d recorders is %d", len(seen), ruleName(rule), len(recorders), need)
	}
	return nil
}

func recorder(rs []*membership.Member, id string) *membership.Member {
	for _, m := range rs {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func ruleName(rule string) string {
	if rule == "" {
		return membership.QuorumTwoThirds
	}
	return rule
}
