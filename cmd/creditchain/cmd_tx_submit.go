package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

func init() {
	txSubcommands["submit"] = runTxSubmit
}

// runTxSubmit signs (or takes a signed envelope) and submits it to intake,
// then waits for the final status.
func runTxSubmit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain tx submit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	network := fs.String("network", "", "network.json (intake URL and chain id)")
	keyPath := fs.String("key", "", "key file to sign with")
	typ := fs.String("type", "", "transaction type")
	payloadPath := fs.String("payload", "", "payload JSON file")
	personalPath := fs.String("personal", "", "person sidecar JSON file")
	envelopePath := fs.String("envelope", "", "an already signed envelope or submission body (instead of --key/--type/--payload)")
	example := fs.Bool("example", false, "submit an example record.create for a fresh organization")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for committed or rejected (0: do not wait)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *network == "" {
		fmt.Fprintln(stderr, "creditchain tx submit: --network is required")
		return 2
	}
	var nf devnet.NetworkFile
	raw, err := os.ReadFile(*network)
	if err == nil {
		err = json.Unmarshal(raw, &nf)
	}
	if err != nil {
		fmt.Fprintf(stderr, "creditchain tx submit: %s: %v\n", *network, err)
		return 1
	}
	s, err := suite.ByName(nf.CryptoSuite)
	if err != nil {
		fmt.Fprintln(stderr, "creditchain tx submit:", err)
		return 1
	}
	c := &devnet.Client{IntakeURL: nf.IntakeURL, Chain: nf.ChainID, Suite: s}
	var env *txn.Envelope
	var personal *txn.Personal
	switch {
	case *envelopePath != "":
		data, err := os.ReadFile(*envelopePath)
		if err != nil {
			fmt.Fprintln(stderr, "creditchain tx submit:", err)
			return 1
		}
		if sub, aerr := txn.DecodeSubmission(data); aerr == nil {
			env, personal = sub.Tx, sub.Personal
		} else if env, err = txn.DecodeEnvelope(data); err != nil {
			fmt.Fprintf(stderr, "creditchain tx submit: %s: %v\n", *envelopePath, err)
			return 1
		}
	default:
		if *keyPath == "" {
			fmt.Fprintln(stderr, "creditchain tx submit: --key is required to sign")
			return 2
		}
		if c.Key, err = suite.LoadKeyFile(*keyPath); err != nil {
			fmt.Fprintln(stderr, "creditchain tx submit:", err)
			return 1
		}
		var payload any
		if *example {
			*typ = txn.TypeRecordCreate
			payload = exampleRecord(c.Key.Institution, &nf)
		} else {
			if *typ == "" || *payloadPath == "" {
				fmt.Fprintln(stderr, "creditchain tx submit: --type and --payload are required (or --example, or --envelope)")
				return 2
			}
			data, err := os.ReadFile(*payloadPath)
			if err != nil {
				fmt.Fprintln(stderr, "creditchain tx submit:", err)
				return 1
			}
			payload = json.RawMessage(data)
		}
		if *personalPath != "" {
			data, err := os.ReadFile(*personalPath)
			if err == nil {
				personal, err = txn.DecodePersonal(data)
			}
			if err != nil {
				fmt.Fprintf(stderr, "creditchain tx submit: %s: %v\n", *personalPath, err)
				return 1
			}
		}
		if env, _, err = c.Sign(*typ, payload); err != nil {
			fmt.Fprintln(stderr, "creditchain tx submit:", err)
			return 1
		}
	}
	ctx := context.Background()
	final, err := c.SubmitAndWait(ctx, env, personal, *wait, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "creditchain tx submit:", err)
		return 1
	}
	if final.Status == "pending" {
		return 0
	}
	if final.Status == "rejected" {
		fmt.Fprintf(stdout, "%s rejected: %s\n", final.TxID, final.Reason)
		return 1
	}
	fmt.Fprintf(stdout, "%s committed at height %d\n", final.TxID, final.Height)
	return 0
}

// exampleRecord is a record.create in the first category the key's
// institution may record, for a fresh organization.
func exampleRecord(institution string, nf *devnet.NetworkFile) map[string]any {
	category := "court-defaulter"
	for _, in := range nf.Institutions {
		if in.ID == institution && len(in.Categories) > 0 {
			category = in.Categories[0]
		}
	}
	i := int(time.Now().UnixNano()/1000) % 5_000_000
	code, _ := devnet.DevUSCC(1_000_000 + i)
	start := time.Now().UTC().Truncate(24 * time.Hour)
	return devnet.ExampleRecord(code, "厦门示例科技有限公司", category, fmt.Sprintf("(2026)闽02执%d号", i), start, "P2Y")
}
