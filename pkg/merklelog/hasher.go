package merklelog

import (
	"hash"

	"github.com/emmansun/gmsm/sm3"
	"github.com/transparency-dev/merkle"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/creditchain/creditchain/pkg/suite"
)

// RFC 6962 domain-separation prefixes, kept identical under SM3 so that a
// client only swaps the hash function between suites.
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// NewHasher returns the RFC 6962 tree hasher for the suite's hash: the
// library's SHA-256 hasher for "ed25519", the same construction over SM3 for
// "sm2", and for any other suite the construction over its Hash method.
func NewHasher(s suite.Suite) merkle.LogHasher {
	switch s.Name() {
	case suite.Ed25519:
		return rfc6962.DefaultHasher
	case suite.SM2:
		return streamHasher{newHash: sm3.New}
	}
	return suiteHasher{s: s}
}

// streamHasher is RFC 6962 over a streaming hash; it avoids building the
// concatenated node preimage that suiteHasher needs.
type streamHasher struct{ newHash func() hash.Hash }

func (h streamHasher) EmptyRoot() []byte { return h.newHash().Sum(nil) }

func (h streamHasher) HashLeaf(leaf []byte) []byte {
	d := h.newHash()
	d.Write([]byte{leafPrefix})
	d.Write(leaf)
	return d.Sum(nil)
}

func (h streamHasher) HashChildren(l, r []byte) []byte {
	d := h.newHash()
	d.Write([]byte{nodePrefix})
	d.Write(l)
	d.Write(r)
	return d.Sum(nil)
}

func (h streamHasher) Size() int { return h.newHash().Size() }

// suiteHasher is RFC 6962 over a suite's one-shot Hash.
type suiteHasher struct{ s suite.Suite }

func (h suiteHasher) EmptyRoot() []byte { return h.s.Hash(nil) }

func (h suiteHasher) HashLeaf(leaf []byte) []byte {
	return h.s.Hash(append([]byte{leafPrefix}, leaf...))
}

func (h suiteHasher) HashChildren(l, r []byte) []byte {
	b := make([]byte, 0, 1+len(l)+len(r))
	b = append(append(append(b, nodePrefix), l...), r...)
	return h.s.Hash(b)
}

func (h suiteHasher) Size() int { return len(h.s.Hash(nil)) }
