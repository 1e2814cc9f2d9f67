package importer

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/creditchain/creditchain/pkg/txn"
)

// submitterFaults are refusals about the key, the chain or the member, not
// about the row: every other row would get them too, so the import stops
// (leaving the rows in doubt, to be resent after the cause is fixed)
// instead of journalling each row as refused for good.
var submitterFaults = map[string]bool{
	"unknown_key": true, "bad_signature": true, "forbidden_role": true, "wrong_chain": true,
}

// requestTimeout bounds one request to intake. Requests run on a context
// that an interruption does not cancel: a request already on its way is
// let finish so that its answer is journalled, and intake is not cut off
// between publishing a transaction and writing its receipt.
const requestTimeout = 30 * time.Second

func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
}

// send submits one job until intake gives an answer that settles it. An
// interruption stops it before a request, never during one.
func (s *session) send(ctx context.Context, j *job) outcome {
	first := time.Now()
	backoff := 100 * time.Millisecond
	retry := func(after time.Duration, why string) error {
		if time.Since(first) > s.cfg.RetryFor {
			return fmt.Errorf("line %d: intake still answers %s after %s; rerun with the same state file to resume", j.it.Line, why, s.cfg.RetryFor)
		}
		backoff = min(2*backoff, 5*time.Second)
		select {
		case <-time.After(max(after, backoff)):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		if ctx.Err() != nil {
			return outcome{job: j, err: ctx.Err()}
		}
		rctx, cancel := detached(ctx)
		a, err := s.client.post(rctx, j.env, j.personal)
		cancel()
		if err != nil {
			if rerr := retry(0, err.Error()); rerr != nil {
				return outcome{job: j, err: rerr}
			}
			continue
		}
		switch {
		case a.HTTPStatus == http.StatusAccepted:
			return outcome{job: j, accepted: true}
		case a.HTTPStatus == http.StatusConflict && a.Code == "duplicate":
			o := outcome{job: j, accepted: true}
			if a.Status == "committed" || a.Status == "rejected" {
				o.final = a
			}
			return o
		case a.HTTPStatus == http.StatusTooManyRequests || a.HTTPStatus >= 500:
			if rerr := retry(a.RetryAfter, fmt.Sprintf("%d %s", a.HTTPStatus, a.Code)); rerr != nil {
				return outcome{job: j, err: rerr}
			}
		case a.HTTPStatus == http.StatusBadRequest && a.Code == "stale_timestamp":
			o, again := s.stale(ctx, j, a)
			if !again {
				return o
			}
		case submitterFaults[a.Code]:
			return outcome{job: j, err: fmt.Errorf("intake refuses the submitter, not the row: %d %s: %s", a.HTTPStatus, a.Code, a.Message)}
		default:
			return outcome{job: j, refused: fmt.Sprintf("%s: %s", a.Code, a.Message)}
		}
	}
}

// stale handles intake's stale_timestamp. A row signed just now means the
// clocks disagree, which no retry mends. A row in doubt from an earlier
// run is older than intake's ±5 min window, so it cannot be sent again as
// it was. If intake has a receipt for it, it arrived. If not, either it
// never arrived, or intake published it but was cut off before writing
// the pending receipt (the importer was killed mid-request) and consensus
// has not reached it yet. The row is then deferred (see settle) and only
// once every other row is decided — consensus has worked through what was
// published before — signed again with a fresh created_at, journalled
// first like any new row. It reports whether to send j again.
func (s *session) stale(ctx context.Context, j *job, a *answer) (outcome, bool) {
	created, _ := txn.ParseTime(j.env.CreatedAt)
	if d := s.cfg.Now().Sub(created); d < time.Minute && d > -time.Minute {
		return outcome{job: j, err: fmt.Errorf("line %d: intake finds created_at %s stale although it was just set: the clocks of this machine and intake disagree by more than 5 minutes (%s)", j.it.Line, j.env.CreatedAt, a.Message)}, false
	}
	rctx, cancel := detached(ctx)
	st, err := s.client.status(rctx, j.tx)
	cancel()
	if err != nil {
		return outcome{job: j, err: fmt.Errorf("line %d: status of %s: %w", j.it.Line, j.tx, err)}, false
	}
	if st.HTTPStatus == http.StatusOK {
		o := outcome{job: j, accepted: true}
		if st.Status == "committed" || st.Status == "rejected" {
			o.final = st
		}
		return o, false
	}
	if st.HTTPStatus != http.StatusNotFound {
		return outcome{job: j, err: fmt.Errorf("line %d: status of %s: %d %s", j.it.Line, j.tx, st.HTTPStatus, st.Code)}, false
	}
	if !j.settled {
		return outcome{job: j, deferred: true}, false
	}
	createdAt := txn.FormatTime(s.cfg.Now().UTC().Truncate(time.Millisecond))
	env, personal, id, err := s.sg.sign(j.it, createdAt, j.salt)
	if err == nil {
		err = s.state.Intent(j.it.Line, id, createdAt, j.salt)
	}
	if err == nil {
		err = s.state.Sync()
	}
	if err != nil {
		return outcome{job: j, err: err}, false
	}
	j.env, j.personal, j.tx, j.fresh = env, personal, id, true
	return outcome{}, true
}
