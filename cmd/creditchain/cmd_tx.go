package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// txSubcommands holds the subcommands of "creditchain tx". It is a package
// variable so that other cmd_*.go files may add to it from their init.
var txSubcommands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"sign": func(args []string, stdout, stderr io.Writer) int {
		return runTxSign(time.Now(), args, stdout, stderr)
	},
}

func init() {
	register("tx", "build and sign transactions: tx sign --key FILE (--chain ID | --network FILE) --type T --payload FILE", runTx)
}

func runTx(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		txUsage(stderr)
		return 2
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		txUsage(stdout)
		return 0
	}
	run, ok := txSubcommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "creditchain tx: unknown subcommand %q\n", args[0])
		txUsage(stderr)
		return 2
	}
	return run(args[1:], stdout, stderr)
}

func txUsage(w io.Writer) {
	names := make([]string, 0, len(txSubcommands))
	for n := range txSubcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "usage: creditchain tx <%s> [flags]\n\n", strings.Join(names, "|"))
	txSignUsage(w)
}

func txSignUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: creditchain tx sign --key FILE (--chain ID | --network FILE) --type T")
	fmt.Fprintln(w, "                           --payload FILE [--personal FILE] [--submission] [--out FILE]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Builds a transaction envelope from the payload in FILE (JSON), checks it with")
	fmt.Fprintln(w, "the same strict rules as intake, signs it with the key file, and writes it as")
	fmt.Fprintln(w, "canonical JSON (RFC 8785) to stdout or --out. The tx id alone goes to stderr.")
	fmt.Fprintln(w, "The submitter is the key file's institution; the nonce is 24 random")
	fmt.Fprintln(w, "characters; created_at is the current time in UTC.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  --chain ID        the chain id")
	fmt.Fprintln(w, "  --network FILE    read chain_id and crypto_suite from network.json instead")
	fmt.Fprintf(w, "  --type T          one of: %s\n", strings.Join(txn.Types, ", "))
	fmt.Fprintln(w, "  --personal FILE   the person sidecar {name, id_number, salt} of a person")
	fmt.Fprintln(w, "                    subject; it is checked against payload.subject.commitment")
	fmt.Fprintln(w, "  --submission      write the POST /v1/transactions body {\"tx\": ..., \"personal\": ...}")
	fmt.Fprintln(w, "                    instead of the bare envelope. Implied by --personal, because")
	fmt.Fprintln(w, "                    the sidecar travels only beside the envelope in that body.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit 0 signed, 1 invalid input (the reason is printed), 2 usage error.")
}

// nonceAlphabet is URL- and shell-safe; 24 characters of it carry 142 bits.
const nonceAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

const nonceLen = 24

func newNonce() (string, error) {
	b := make([]byte, nonceLen)
	max := big.NewInt(int64(len(nonceAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("nonce: %w", err)
		}
		b[i] = nonceAlphabet[n.Int64()]
	}
	return string(b), nil
}

// networkChain is the part of network.json (DESIGN 9.2) that signing needs.
type networkChain struct {
	ChainID     string `json:"chain_id"`
	CryptoSuite string `json:"crypto_suite"`
}

func readNetworkChain(path string) (*networkChain, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var n networkChain
	if err := json.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if n.ChainID == "" {
		return nil, fmt.Errorf("%s: no chain_id", path)
	}
	return &n, nil
}

type txSignFlags struct {
	key, chain, network, typ, payload, personal, out string
	submission                                       bool
}

func runTxSign(now time.Time, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain tx sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { txSignUsage(stderr) }
	var f txSignFlags
	fs.StringVar(&f.key, "key", "", "key file")
	fs.StringVar(&f.chain, "chain", "", "chain id")
	fs.StringVar(&f.network, "network", "", "network.json to read the chain id from")
	fs.StringVar(&f.typ, "type", "", "transaction type")
	fs.StringVar(&f.payload, "payload", "", "payload JSON file")
	fs.StringVar(&f.personal, "personal", "", "person sidecar JSON file")
	fs.BoolVar(&f.submission, "submission", false, "write the POST /v1/transactions body")
	fs.StringVar(&f.out, "out", "", "output file (default stdout)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "creditchain tx sign: "+format+"\n", a...)
		txSignUsage(stderr)
		return 2
	}
	switch {
	case fs.NArg() != 0:
		return usageErr("unexpected argument %q", fs.Arg(0))
	case f.key == "" || f.typ == "" || f.payload == "":
		return usageErr("--key, --type and --payload are required")
	case (f.chain == "") == (f.network == ""):
		return usageErr("give exactly one of --chain and --network")
	case !txn.KnownType(f.typ):
		return usageErr("unknown --type %q", f.typ)
	}

	body, txID, err := signTx(now, &f)
	if err != nil {
		fmt.Fprintf(stderr, "creditchain tx sign: %v\n", err)
		return 1
	}
	body = append(body, '\n')
	if f.out != "" {
		err = os.WriteFile(f.out, body, 0o644)
	} else {
		_, err = stdout.Write(body)
	}
	if err != nil {
		fmt.Fprintf(stderr, "creditchain tx sign: %v\n", err)
		return 1
	}
	fmt.Fprintln(stderr, txID)
	return 0
}

// signTx builds, checks and signs the transaction; it returns the output
// bytes (envelope or submission body) and the tx id.
func signTx(now time.Time, f *txSignFlags) ([]byte, string, error) {
	kf, err := suite.LoadKeyFile(f.key)
	if err != nil {
		return nil, "", err
	}
	s, err := suite.ByName(kf.Alg)
	if err != nil {
		return nil, "", err
	}
	chain := f.chain
	if f.network != "" {
		n, err := readNetworkChain(f.network)
		if err != nil {
			return nil, "", fmt.Errorf("--network: %w", err)
		}
		if n.CryptoSuite != "" && n.CryptoSuite != kf.Alg {
			return nil, "", fmt.Errorf("the key is %s but the network's crypto suite is %s", kf.Alg, n.CryptoSuite)
		}
		chain = n.ChainID
	}

	raw, err := os.ReadFile(f.payload)
	if err != nil {
		return nil, "", fmt.Errorf("--payload: %w", err)
	}
	p, err := txn.DecodePayload(f.typ, raw)
	if err != nil {
		return nil, "", describe(err)
	}
	var personal *txn.Personal
	if f.personal != "" {
		data, err := os.ReadFile(f.personal)
		if err != nil {
			return nil, "", fmt.Errorf("--personal: %w", err)
		}
		if personal, err = txn.DecodePersonal(data); err != nil {
			return nil, "", describe(err)
		}
	}

	nonce, err := newNonce()
	if err != nil {
		return nil, "", err
	}
	e := &txn.Envelope{
		Chain: chain, Type: f.typ, Submitter: kf.Institution, Nonce: nonce,
		CreatedAt: txn.FormatTime(now.Truncate(time.Millisecond)), Payload: raw,
	}
	if aerr := txn.ValidateWith(s, e, p, personal, now); aerr != nil {
		return nil, "", describe(aerr)
	}
	if err := txn.Sign(e, s, kf.PrivateKey(), kf.KeyID); err != nil {
		return nil, "", err
	}
	id, err := e.ID(s)
	if err != nil {
		return nil, "", err
	}
	env, err := e.Canonical()
	if err != nil {
		return nil, "", err
	}
	if personal == nil && !f.submission {
		return env, id, nil
	}
	out := append([]byte(`{"tx":`), env...)
	if personal != nil {
		pb, err := json.Marshal(personal)
		if err != nil {
			return nil, "", fmt.Errorf("--personal: %w", err)
		}
		out = append(append(out, `,"personal":`...), pb...)
	}
	return append(out, '}'), id, nil
}

// describe turns a contract error into "code: message" as intake would answer.
func describe(err error) error {
	if ae, ok := apierr.As(err); ok {
		return fmt.Errorf("%s: %s", ae.Code, ae.Message)
	}
	return err
}
