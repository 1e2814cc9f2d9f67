// Package membercmd is `creditchain member`: the regulator's membership
// governance (DESIGN 5, 6, 9.7). add, update, suspend and remove sign a
// member.update with the regulator's key and submit it to the network's
// intake, waiting for its outcome; list shows the membership in force. It is
// a package of its own, registered by the CLI's cmd_member.go, so that the
// end-to-end tests run exactly what the CLI runs.
package membercmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Summary is the one-line help of `creditchain member`.
const Summary = "govern membership as the regulator: member add|update|suspend|remove|list"

// Run runs `creditchain member` with args after "member": 0 committed (or
// listed), 1 refused, rejected or failed, 2 usage error.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "add", "update", "suspend", "remove":
		return runChange(args[0], args[1:], stdout, stderr)
	case "list":
		return runList(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "creditchain member: unknown subcommand %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: creditchain member add --network FILE --key REGULATOR.json --id USCC --name NAME --kind KIND")
	fmt.Fprintln(w, "                              --roles R[,R] [--categories C[,C]] --public-key-file KEY.json")
	fmt.Fprintln(w, "       creditchain member update --network FILE --key REGULATOR.json --id USCC [--name NAME] [--kind KIND]")
	fmt.Fprintln(w, "                              [--roles R,..] [--categories C,..] [--public-key-file NEW.json [--keep-keys]]")
	fmt.Fprintln(w, "                              [--database URL]")
	fmt.Fprintln(w, "       creditchain member suspend|remove --network FILE --key REGULATOR.json --id USCC")
	fmt.Fprintln(w, "       creditchain member list (--database URL | --network FILE | --etcd ENDPOINTS --chain ID) [--json]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "add, update, suspend and remove sign a member.update with the regulator's key file")
	fmt.Fprintln(w, "and submit it to the intake named in network.json, then wait (--wait, default 60s)")
	fmt.Fprintln(w, "for it to commit. The change is in force from the next block: the consensus nodes")
	fmt.Fprintln(w, "publish the new epoch to etcd and every service follows within a second.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "--public-key-file is a public key file (`creditchain keygen --public-out`) or a key")
	fmt.Fprintln(w, "file, of which only the public key is used. update starts from the member")
	fmt.Fprintln(w, "as etcd (or the replica at --database) holds it and changes only the flags given;")
	fmt.Fprintln(w, "--public-key-file replaces its keys (key rotation; with --keep-keys the new key")
	fmt.Fprintln(w, "is added beside the old ones, for a rotation without a gap). Roles: recorder, submitter,")
	fmt.Fprintln(w, "regulator, issuer. Kinds: credit_center, court, market_regulation, tax,")
	fmt.Fprintln(w, "ecology_environment, bank, credit_bureau, association, exchange, other.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "list prints the newest epoch as a replica (--database) or etcd holds it.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit 0 committed (or listed), 1 refused, rejected or failed, 2 usage error.")
}

// parse parses args into fs, mapping errors to exit codes.
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2, false
	}
	return 0, true
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

const defaultWait = 60 * time.Second
