package harness

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
)

// SetUsers replaces the embedded server's users and reloads it in place.
// With users set, every client must authenticate; on reload the server
// closes the connections of users that no longer exist and applies new
// permissions to the others, so revoking a user takes effect at once. The
// users are kept for Restart. nil turns authentication off again.
func (n *NATS) SetUsers(users []*server.User) error {
	if n.external != "" {
		return errors.New("harness: cannot configure users on an external NATS server")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.opts.Users = users
	if n.srv == nil {
		return nil
	}
	// The server keeps and mutates the options it is given.
	opts := n.opts.Clone()
	if err := n.srv.ReloadOptions(opts); err != nil {
		return fmt.Errorf("harness: reload NATS users: %w", err)
	}
	return nil
}
