package block

import (
	"errors"
	"fmt"
)

// VerifyError says which check a block failed. Check is one of "chain",
// "height", "prev", "time", "epoch", "tx_count", "tx_root", "log_size",
// "log_root", "hash", "cosignatures", "quorum", "checkpoint" and, for the
// genesis, "genesis".
type VerifyError struct {
	Height  uint64
	Check   string
	Message string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("block %d: %s: %s", e.Height, e.Check, e.Message)
}

func verr(height uint64, check, format string, args ...any) *VerifyError {
	return &VerifyError{Height: height, Check: check, Message: fmt.Sprintf(format, args...)}
}

// atHeight sets the height of a *VerifyError from a helper that did not
// know it, and wraps any other error as failing check.
func atHeight(err error, height uint64, check string) error {
	if err == nil {
		return nil
	}
	var ve *VerifyError
	if errors.As(err, &ve) {
		c := *ve
		c.Height = height
		return &c
	}
	return verr(height, check, "%v", err)
}
