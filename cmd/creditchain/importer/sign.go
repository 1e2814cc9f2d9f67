package importer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// signer builds the envelope of a row.
type signer struct {
	chain   string
	suite   suite.Suite
	key     *suite.KeyFile
	fileSHA string
}

// nonce is derived from the input file and the row's line, so that the
// same row always carries the same nonce: with the created_at and salt the
// state file keeps, a rerun rebuilds the same tx id.
func (s *signer) nonce(line int) string {
	h := sha256.Sum256([]byte("creditchain-import-v1\x00" + s.fileSHA + "\x00" + strconv.Itoa(line)))
	return hex.EncodeToString(h[:16])
}

// newSalt draws a person's salt: 32 random bytes as 64 hex characters. It
// must be random, not derived: ID numbers are few enough to be guessed
// from a commitment whose salt can be recomputed.
func newSalt() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// sign builds and signs the record.create of it with createdAt and, for a
// person, salt; it returns the envelope, the sidecar and the tx id.
func (s *signer) sign(it *Item, createdAt, salt string) (*txn.Envelope, *txn.Personal, string, error) {
	pl := it.Payload
	var personal *txn.Personal
	if it.Person != nil {
		personal = &txn.Personal{Name: it.Person.Name, IDNumber: it.Person.IDNumber, Salt: salt}
		c, err := txn.Commitment(s.suite, personal)
		if err != nil {
			return nil, nil, "", err
		}
		pl.Subject.Commitment = c
	}
	raw, err := json.Marshal(&pl)
	if err != nil {
		return nil, nil, "", fmt.Errorf("line %d: %w", it.Line, err)
	}
	env := &txn.Envelope{Chain: s.chain, Type: txn.TypeRecordCreate, Submitter: s.key.Institution,
		Nonce: s.nonce(it.Line), CreatedAt: createdAt, Payload: raw}
	if err := txn.Sign(env, s.suite, s.key.PrivateKey(), s.key.KeyID); err != nil {
		return nil, nil, "", fmt.Errorf("line %d: sign: %w", it.Line, err)
	}
	id, err := env.ID(s.suite)
	if err != nil {
		return nil, nil, "", fmt.Errorf("line %d: %w", it.Line, err)
	}
	return env, personal, id, nil
}
