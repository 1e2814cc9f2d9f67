package audit

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// fetchSize bounds the rows held per cursor: with envelopes of at most
// 256 KiB, a full buffer of the largest ones is still a few tens of MiB.
const fetchSize = 256

// cursor streams the rows of a query in order through a server-side cursor,
// fetchSize at a time. Several cursors live in one transaction, so they
// read one snapshot and can be walked side by side on one connection.
type cursor[T any] struct {
	tx   pgx.Tx
	name string
	scan func(pgx.Rows) (T, error)
	buf  []T
	pos  int
	done bool
}

func openCursor[T any](ctx context.Context, tx pgx.Tx, name, query string, scan func(pgx.Rows) (T, error)) (*cursor[T], error) {
	if _, err := tx.Exec(ctx, "DECLARE "+name+" NO SCROLL CURSOR FOR "+query); err != nil {
		return nil, fmt.Errorf("open cursor %s: %w", name, err)
	}
	return &cursor[T]{tx: tx, name: name, scan: scan}, nil
}

// peek returns the next row without consuming it; ok is false at the end.
func (c *cursor[T]) peek(ctx context.Context) (row T, ok bool, err error) {
	if c.pos == len(c.buf) && !c.done {
		if err := c.fill(ctx); err != nil {
			return row, false, err
		}
	}
	if c.pos == len(c.buf) {
		return row, false, nil
	}
	return c.buf[c.pos], true, nil
}

// next returns the next row and consumes it.
func (c *cursor[T]) next(ctx context.Context) (row T, ok bool, err error) {
	row, ok, err = c.peek(ctx)
	if ok {
		var zero T
		c.buf[c.pos] = zero // let the garbage collector have the row
		c.pos++
	}
	return row, ok, err
}

func (c *cursor[T]) fill(ctx context.Context) error {
	// Describe every FETCH: pgx would otherwise cache the result shape of
	// the statement text, which names only the cursor, not its query.
	rows, err := c.tx.Query(ctx, fmt.Sprintf("FETCH FORWARD %d FROM %s", fetchSize, c.name), pgx.QueryExecModeDescribeExec)
	if err != nil {
		return fmt.Errorf("fetch from %s: %w", c.name, err)
	}
	defer rows.Close()
	c.buf, c.pos = c.buf[:0], 0
	for rows.Next() {
		v, err := c.scan(rows)
		if err != nil {
			return fmt.Errorf("read %s: %w", c.name, err)
		}
		c.buf = append(c.buf, v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("fetch from %s: %w", c.name, err)
	}
	if len(c.buf) < fetchSize {
		c.done = true
	}
	return nil
}
