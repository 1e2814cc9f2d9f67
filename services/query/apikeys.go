package query

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// APIKey is a third party's key as stored: never the key itself, only its
// SHA-256.
type APIKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	PerMinute int        `json:"per_minute"`
	PerDay    int64      `json:"per_day"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// UsedToday is today's look-ups (China Standard Time), in listings.
	UsedToday int64 `json:"used_today"`
}

// ErrNoSuchKey is returned when revoking a key id that does not exist.
var ErrNoSuchKey = errors.New("no such API key")

// keyPrefix marks creditchain query keys so that secret scanners and people
// recognise one.
const keyPrefix = "cck_"

// cst is China Standard Time, the day boundary of daily quotas: the people
// who set and read quotas live by it.
var cst = time.FixedZone("CST", 8*3600)

// CreateAPIKey makes a key for name with the given limits and returns the
// bearer token, shown this once: only its hash is kept.
func CreateAPIKey(ctx context.Context, pool *pgxpool.Pool, name string, perMinute int, perDay int64) (string, *APIKey, error) {
	if strings.TrimSpace(name) == "" {
		return "", nil, errors.New("an API key needs a name (who holds it)")
	}
	if perMinute <= 0 || perDay <= 0 {
		return "", nil, fmt.Errorf("limits must be positive (per minute %d, per day %d)", perMinute, perDay)
	}
	idb := make([]byte, 8)
	secret := make([]byte, 32)
	if _, err := rand.Read(idb); err != nil {
		return "", nil, err
	}
	if _, err := rand.Read(secret); err != nil {
		return "", nil, err
	}
	id := hex.EncodeToString(idb)
	token := keyPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(secret)
	k := &APIKey{ID: id, Name: name, PerMinute: perMinute, PerDay: perDay}
	err := pool.QueryRow(ctx, `INSERT INTO api_keys (id, name, hash, per_minute, per_day) VALUES ($1,$2,$3,$4,$5)
		RETURNING created_at`, id, name, hashToken(token), perMinute, perDay).Scan(&k.CreatedAt)
	if err != nil {
		return "", nil, fmt.Errorf("store API key: %w", err)
	}
	return token, k, nil
}

// RevokeAPIKey revokes key id; revoking twice keeps the first time.
func RevokeAPIKey(ctx context.Context, pool *pgxpool.Pool, id string) error {
	tag, err := pool.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("revoke API key %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke %s: %w", id, ErrNoSuchKey)
	}
	return nil
}

// ListAPIKeys lists every key, oldest first, with today's usage.
func ListAPIKeys(ctx context.Context, pool *pgxpool.Pool, now time.Time) ([]APIKey, error) {
	rows, err := pool.Query(ctx, `SELECT k.id, k.name, k.per_minute, k.per_day, k.created_at, k.revoked_at, coalesce(u.count, 0)
		FROM api_keys k LEFT JOIN api_key_usage u ON u.key_id = k.id AND u.day = $1::date
		ORDER BY k.created_at, k.id`, today(now))
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIKey, error) {
		var k APIKey
		err := r.Scan(&k.ID, &k.Name, &k.PerMinute, &k.PerDay, &k.CreatedAt, &k.RevokedAt, &k.UsedToday)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return keys, nil
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func today(now time.Time) string { return now.In(cst).Format(time.DateOnly) }

// untilTomorrow is how long until the quota day ends.
func untilTomorrow(now time.Time) time.Duration {
	t := now.In(cst)
	next := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, cst)
	return next.Sub(t)
}

// keyByToken finds the key a bearer token belongs to; nil when none.
func keyByToken(ctx context.Context, pool *pgxpool.Pool, token string) (*APIKey, error) {
	var k APIKey
	err := pool.QueryRow(ctx, `SELECT id, name, per_minute, per_day, created_at, revoked_at FROM api_keys WHERE hash = $1`,
		hashToken(token)).Scan(&k.ID, &k.Name, &k.PerMinute, &k.PerDay, &k.CreatedAt, &k.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read API key: %w", err)
	}
	return &k, nil
}

// spendQuota counts one look-up against the key's daily quota and reports
// whether it was within it. A refused look-up is not counted, so the count
// never exceeds the quota.
func spendQuota(ctx context.Context, pool *pgxpool.Pool, k *APIKey, now time.Time) (bool, error) {
	var n int64
	err := pool.QueryRow(ctx, `INSERT INTO api_key_usage (key_id, day, count) VALUES ($1, $2::date, 1)
		ON CONFLICT (key_id, day) DO UPDATE SET count = api_key_usage.count + 1
		WHERE api_key_usage.count < $3
		RETURNING count`, k.ID, today(now), k.PerDay).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("count API key usage: %w", err)
	}
	return true, nil
}
