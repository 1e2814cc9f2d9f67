package audit

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// blockRow is a blocks row as stored.
type blockRow struct {
	height     int64
	hash       string
	prev       string
	time       time.Time
	epoch      int64
	logSize    int64
	header     string
	cosigs     []byte
	checkpoint string
	streamSeq  *int64
}

const blocksQuery = `SELECT height, hash, prev, time, epoch, log_size, header, cosignatures, checkpoint, stream_seq
	FROM blocks ORDER BY height`

func scanBlock(rows pgx.Rows) (blockRow, error) {
	var b blockRow
	err := rows.Scan(&b.height, &b.hash, &b.prev, &b.time, &b.epoch, &b.logSize, &b.header, &b.cosigs, &b.checkpoint, &b.streamSeq)
	return b, err
}

// txRow is a txs row as stored.
type txRow struct {
	id        string
	height    int64
	position  int32
	leaf      int64
	typ       string
	submitter string
	envelope  []byte
}

func (t txRow) name() string { return fmt.Sprintf("tx_id=%s position %d", t.id, t.position) }

const txsQuery = `SELECT tx_id, height, position, leaf_index, type, submitter, envelope
	FROM txs ORDER BY height, position, leaf_index`

func scanTx(rows pgx.Rows) (txRow, error) {
	var t txRow
	err := rows.Scan(&t.id, &t.height, &t.position, &t.leaf, &t.typ, &t.submitter, &t.envelope)
	return t, err
}

// nodeRow is a log_nodes row as stored.
type nodeRow struct {
	level int16
	idx   int64
	hash  []byte
}

func (n nodeRow) name() string { return fmt.Sprintf("level=%d idx=%d", n.level, n.idx) }

// completes is the index of the leaf whose append completed the node: a
// node covers leaves [idx<<level, (idx+1)<<level).
func completes(level uint, idx uint64) uint64 { return (idx+1)<<level - 1 }

// nodesQuery orders nodes as appending completes them, so that the nodes
// of each block come together and in the order the replay makes them.
const nodesQuery = `SELECT level, idx, hash FROM log_nodes ORDER BY ((idx + 1) << level), level`

func scanNode(rows pgx.Rows) (nodeRow, error) {
	var n nodeRow
	err := rows.Scan(&n.level, &n.idx, &n.hash)
	return n, err
}
