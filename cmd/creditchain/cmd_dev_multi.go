package main

import (
	"context"
	"fmt"
	"io"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
)

// runDevMultiprocess runs `creditchain dev --multiprocess` until ctx is
// cancelled: every service, NATS and etcd as processes of their own under
// this one as supervisor (devnet.Supervisor).
func runDevMultiprocess(ctx context.Context, opts devnet.MultiOptions, demo bool, stdout, stderr io.Writer) int {
	sv, err := devnet.StartMultiprocess(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "creditchain dev: %v\n", err)
		return 1
	}
	if demo {
		fmt.Fprintln(stdout, "  loading demo data")
		if err := sv.Net.LoadDemo(ctx); err != nil {
			fmt.Fprintf(stderr, "creditchain dev: demo data: %v\n", err)
		}
	}
	fmt.Fprintf(stdout, "  processes      one per service and institution; logs in %s/logs, fault API %s\n", opts.Dir, sv.ControlURL)
	printDevSummary(stdout, sv.Net, opts.Dir)
	<-ctx.Done()
	fmt.Fprintln(stdout, "creditchain dev: stopping")
	sv.Close()
	fmt.Fprintln(stdout, "creditchain dev: stopped")
	return 0
}
