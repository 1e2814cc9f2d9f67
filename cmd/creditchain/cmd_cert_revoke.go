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

	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/services/signer"
)

func runCertRevoke(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain cert revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { certUsage(stderr) }
	reason := fs.String("reason", "", "why the certificate is revoked (recorded on the ledger)")
	keyFile := fs.String("key", "", "the issuer's key file")
	network := fs.String("network", "", "network.json: chain id, suite and intake URL")
	chain := fs.String("chain", "", "chain id (without --network)")
	intake := fs.String("intake", "", "intake base URL (without --network)")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the outcome (0: do not wait)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "creditchain cert revoke: "+format+"\n", a...)
		return 2
	}
	switch {
	case len(pos) != 1:
		return usageErr("give exactly one CERT_NO")
	case *keyFile == "" || *reason == "":
		return usageErr("--key and --reason are required")
	case *network == "" && (*chain == "" || *intake == ""):
		return usageErr("give --network FILE, or --chain ID and --intake URL")
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "creditchain cert revoke: %v\n", err)
		return 1
	}
	kf, err := suite.LoadKeyFile(*keyFile)
	if err != nil {
		return fail(err)
	}
	su, err := suite.ByName(kf.Alg)
	if err != nil {
		return fail(err)
	}
	in := &signer.Intake{URL: *intake, Chain: *chain, Suite: su, Key: kf}
	if *network != "" {
		var nf struct {
			ChainID   string `json:"chain_id"`
			IntakeURL string `json:"intake_url"`
		}
		data, err := os.ReadFile(*network)
		if err != nil {
			return fail(err)
		}
		if err := json.Unmarshal(data, &nf); err != nil || nf.ChainID == "" || nf.IntakeURL == "" {
			return fail(fmt.Errorf("%s: no chain_id or intake_url", *network))
		}
		in.Chain, in.URL = nf.ChainID, nf.IntakeURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second+*wait)
	defer cancel()
	id, err := signer.Revoke(ctx, in, pos[0], *reason)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintln(stdout, id)
	if *wait == 0 {
		return 0
	}
	wctx, wcancel := context.WithTimeout(ctx, *wait)
	defer wcancel()
	st, err := in.Wait(wctx, id)
	if err != nil {
		return fail(err)
	}
	if st.Status != "committed" {
		return fail(fmt.Errorf("certificate.revoke %s: %s", st.Status, st.Reason))
	}
	fmt.Fprintf(stderr, "certificate %s revoked at height %d\n", pos[0], st.Height)
	return 0
}
