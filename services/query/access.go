package query

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/creditchain/creditchain/pkg/apierr"
)

// caller is who made a look-up, for limits and the access log.
type caller struct {
	// who is the API key id, or "anonymous:<address>".
	who     string
	address string
}

type callerKey struct{}

func callerOf(ctx context.Context) caller {
	c, _ := ctx.Value(callerKey{}).(caller)
	return c
}

// clientAddress is the connection's address. X-Forwarded-For is ignored on
// purpose: anyone can write it, and honouring it would let a client pick a
// fresh address for every request and escape the anonymous limit.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limited admits a look-up under the caller's limits: an API key's rate and
// daily quota, or the anonymous rate of the client's address.
func (s *Server) limited(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, aerr, wait := s.admit(r)
		switch {
		case aerr == nil:
		case aerr.Status == http.StatusServiceUnavailable:
			s.writeUnavailable(w, r, aerr)
			return
		case aerr.Status == http.StatusTooManyRequests:
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
			writeError(w, aerr)
			return
		default:
			writeError(w, aerr)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	}
}

func (s *Server) admit(r *http.Request) (caller, *apierr.Error, time.Duration) {
	now := s.clock()
	addr := clientAddress(r)
	auth := r.Header.Get("Authorization")
	if auth == "" {
		c := caller{who: "anonymous:" + addr, address: addr}
		if ok, wait := s.anon.take(addr, s.limits.AnonPerMinute, s.limits.AnonBurst, now); !ok {
			return c, apierr.New(429, "rate_limited",
				"anonymous look-ups are limited to %d per minute per address (burst %d); use an API key for more",
				s.limits.AnonPerMinute, s.limits.AnonBurst), wait
		}
		return c, nil, 0
	}
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		return caller{}, apierr.New(401, "invalid_api_key", "Authorization must be \"Bearer <API key>\""), 0
	}
	k, err := keyByToken(r.Context(), s.store.Pool, token)
	if err != nil {
		return caller{}, apierr.New(503, "unavailable", "%v", err), 0
	}
	if k == nil {
		return caller{}, apierr.New(401, "invalid_api_key", "unknown API key"), 0
	}
	if k.RevokedAt != nil {
		return caller{}, apierr.New(401, "revoked_api_key", "API key %s was revoked", k.ID), 0
	}
	c := caller{who: k.ID, address: addr}
	if ok, wait := s.keys.take(k.ID, k.PerMinute, max(1, k.PerMinute/10), now); !ok {
		return c, apierr.New(429, "rate_limited", "API key %s is limited to %d look-ups per minute", k.ID, k.PerMinute), wait
	}
	within, err := spendQuota(r.Context(), s.store.Pool, k, now)
	if err != nil {
		return caller{}, apierr.New(503, "unavailable", "%v", err), 0
	}
	if !within {
		return c, apierr.New(429, "quota_exceeded", "API key %s has used its %d look-ups of today (China Standard Time)", k.ID, k.PerDay),
			untilTomorrow(now)
	}
	return c, nil, 0
}

// logAccess writes one access-log row for a look-up that shows (or might
// have shown) a person. It runs before the answer is sent: a look-up that
// cannot be logged is not answered.
func (s *Server) logAccess(ctx context.Context, c caller, maskedCode string, commitments []string, endpoint string) error {
	if commitments == nil {
		commitments = []string{}
	}
	if _, err := s.store.Pool.Exec(ctx, `INSERT INTO access_log (at, who, address, subject, commitments, endpoint)
		VALUES ($1,$2,$3,$4,$5,$6)`, s.clock(), c.who, c.address, maskedCode, commitments, endpoint); err != nil {
		return fmt.Errorf("write access log: %w", err)
	}
	return nil
}
