package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/transparency-dev/merkle"
)

// ErrNoGenesis is returned by Head before Init.
var ErrNoGenesis = errors.New("replica has no genesis yet")

// Store is one replica database.
type Store struct {
	Pool    *pgxpool.Pool
	Genesis *block.Genesis
	Suite   suite.Suite
	Hasher  merkle.LogHasher
}

// Open connects to a migrated replica database. Genesis is loaded when the
// replica has one (after Init).
func Open(ctx context.Context, dbURL string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url %s: %w", redact(dbURL), err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", redact(dbURL), err)
	}
	s := &Store{Pool: pool}
	var raw []byte
	err = pool.QueryRow(ctx, `SELECT value FROM chain_meta WHERE key = 'genesis'`).Scan(&raw)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		pool.Close()
		return nil, fmt.Errorf("load genesis: %w", err)
	default:
		var g block.Genesis
		if err := json.Unmarshal(raw, &g); err != nil {
			pool.Close()
			return nil, fmt.Errorf("decode stored genesis: %w", err)
		}
		if err := s.setGenesis(&g); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close releases the pool.
func (s *Store) Close() { s.Pool.Close() }

func (s *Store) setGenesis(g *block.Genesis) error {
	su, err := suite.ByName(g.CryptoSuite)
	if err != nil {
		return fmt.Errorf("genesis suite: %w", err)
	}
	s.Genesis, s.Suite, s.Hasher = g, su, merklelog.NewHasher(su)
	return nil
}

// initLockKey names the advisory lock Init takes (any constant no other
// lock of ours uses).
const initLockKey int64 = 0x63635f696e6974 // "cc_init"

// Init writes the genesis block and the genesis state once. Run again with
// the same genesis it does nothing; with another it fails.
func (s *Store) Init(ctx context.Context, g *block.Genesis, initial *ledger.Batch) error {
	if err := s.setGenesis(g); err != nil {
		return err
	}
	gb, err := g.Block(s.Suite)
	if err != nil {
		return fmt.Errorf("genesis block: %w", err)
	}
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		// Services sharing a database (an institution's replicator and its
		// recorder's consensus state) may start at once: the second waits
		// here and then finds the genesis the first wrote (each statement
		// sees what committed before it), instead of failing on its key.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, initLockKey); err != nil {
			return fmt.Errorf("lock for genesis: %w", err)
		}
		var have string
		err := tx.QueryRow(ctx, `SELECT hash FROM blocks WHERE height = 0`).Scan(&have)
		if err == nil {
			if have != gb.Hash {
				return fmt.Errorf("replica holds genesis %s, not %s", have, gb.Hash)
			}
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read genesis: %w", err)
		}
		gj, err := json.Marshal(g)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO chain_meta (key, value) VALUES ('genesis', $1)`, gj); err != nil {
			return fmt.Errorf("store genesis: %w", err)
		}
		if err := insertBlock(ctx, tx, gb, 0); err != nil {
			return err
		}
		epoch0 := &membership.Epoch{Epoch: 0, FromHeight: 0, Members: g.Members}
		if err := insertEpoch(ctx, tx, epoch0); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO head (height, hash, log_size, frontier, epoch) VALUES (0, $1, 0, '{}', 0)`, gb.Hash); err != nil {
			return fmt.Errorf("store head: %w", err)
		}
		return writeBatch(ctx, tx, initial, 0)
	})
}

func insertBlock(ctx context.Context, tx pgx.Tx, b *block.Block, streamSeq uint64) error {
	hj, err := json.Marshal(b.Header)
	if err != nil {
		return err
	}
	cj, err := json.Marshal(b.Cosignatures)
	if err != nil {
		return err
	}
	if b.Cosignatures == nil {
		cj = []byte("[]")
	}
	t, err := parseTime(b.Header.Time)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO blocks (height, hash, prev, time, epoch, log_size, header, cosignatures, checkpoint, stream_seq)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		int64(b.Header.Height), b.Hash, b.Header.Prev, t, int64(b.Header.Epoch), int64(b.Header.LogSize),
		string(hj), cj, b.Checkpoint, int64(streamSeq))
	if err != nil {
		return fmt.Errorf("insert block %d: %w", b.Header.Height, err)
	}
	return nil
}

func insertEpoch(ctx context.Context, tx pgx.Tx, e *membership.Epoch) error {
	mj, err := json.Marshal(e.Members)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO epochs (epoch, from_height, members) VALUES ($1,$2,$3)`,
		int64(e.Epoch), int64(e.FromHeight), mj); err != nil {
		return fmt.Errorf("insert epoch %d: %w", e.Epoch, err)
	}
	return nil
}

// redact hides the password of a database URL in messages.
func redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "(unparseable url)"
	}
	return u.Redacted()
}
