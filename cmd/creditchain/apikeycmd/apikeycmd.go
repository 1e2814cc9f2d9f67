// Package apikeycmd is `creditchain apikey`: the API keys of an
// institution's query service. It is a package of its own so that the
// end-to-end tests run the real command in-process.
package apikeycmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/services/query"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Summary is the command's line in `creditchain help`.
const Summary = "query API keys: apikey create|revoke|list --database URL"

func apikeyUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: creditchain apikey create --database URL --name NAME [--per-minute N] [--per-day N]")
	fmt.Fprintln(w, "       creditchain apikey revoke --database URL KEY_ID")
	fmt.Fprintln(w, "       creditchain apikey list --database URL [--json]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Manages the API keys of an institution's query service, stored (as SHA-256")
	fmt.Fprintln(w, "hashes) in its replica database. create prints the key once on stdout and")
	fmt.Fprintln(w, "its id on stderr; the key cannot be shown again. --database defaults to")
	fmt.Fprintln(w, "$DATABASE_URL. Exit 0 done, 1 failure, 2 usage error.")
}

// Run runs `creditchain apikey ARGS` and returns the exit code: 0 done, 1
// failure, 2 usage error.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		apikeyUsage(stderr)
		return 2
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "help", "-h", "--help":
		apikeyUsage(stdout)
		return 0
	case "create", "revoke", "list":
	default:
		fmt.Fprintf(stderr, "creditchain apikey: unknown subcommand %q\n", sub)
		apikeyUsage(stderr)
		return 2
	}
	def := query.DefaultLimits()
	fs := flag.NewFlagSet("creditchain apikey "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { apikeyUsage(stderr) }
	dbURL := fs.String("database", os.Getenv("DATABASE_URL"), "PostgreSQL URL of the replica the query service serves")
	name := fs.String("name", "", "who holds the key (create)")
	perMinute := fs.Int("per-minute", def.KeyPerMinute, "look-ups per minute (create)")
	perDay := fs.Int64("per-day", def.KeyPerDay, "look-ups per day, China Standard Time (create)")
	asJSON := fs.Bool("json", false, "list as JSON")
	// Flags may come before or after the key id.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if *dbURL == "" {
		fmt.Fprintln(stderr, "creditchain apikey: --database (or DATABASE_URL) is required")
		return 2
	}
	switch {
	case sub == "revoke" && len(rest) != 1:
		fmt.Fprintln(stderr, "creditchain apikey revoke: name exactly one KEY_ID")
		return 2
	case sub != "revoke" && len(rest) != 0:
		fmt.Fprintf(stderr, "creditchain apikey %s: unexpected argument %q\n", sub, rest[0])
		return 2
	case sub == "create" && *name == "":
		fmt.Fprintln(stderr, "creditchain apikey create: --name is required")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The tables come with the replica's migrations; migrating here makes
	// the command work before the query service first started.
	if err := pgstore.Migrate(ctx, *dbURL); err != nil {
		fmt.Fprintln(stderr, "creditchain apikey:", err)
		return 1
	}
	pool, err := pgxpool.New(ctx, *dbURL)
	if err != nil {
		fmt.Fprintln(stderr, "creditchain apikey:", err)
		return 1
	}
	defer pool.Close()
	switch sub {
	case "create":
		token, k, err := query.CreateAPIKey(ctx, pool, *name, *perMinute, *perDay)
		if err != nil {
			fmt.Fprintln(stderr, "creditchain apikey create:", err)
			return 1
		}
		fmt.Fprintln(stdout, token)
		fmt.Fprintf(stderr, "key id %s for %q: %d per minute, %d per day\n", k.ID, k.Name, k.PerMinute, k.PerDay)
	case "revoke":
		if err := query.RevokeAPIKey(ctx, pool, rest[0]); err != nil {
			fmt.Fprintln(stderr, "creditchain apikey revoke:", err)
			return 1
		}
		fmt.Fprintf(stderr, "revoked %s\n", rest[0])
	case "list":
		keys, err := query.ListAPIKeys(ctx, pool, time.Now())
		if err != nil {
			fmt.Fprintln(stderr, "creditchain apikey list:", err)
			return 1
		}
		return printKeys(stdout, keys, *asJSON)
	}
	return 0
}

func printKeys(w io.Writer, keys []query.APIKey, asJSON bool) int {
	if asJSON {
		if keys == nil {
			keys = []query.APIKey{}
		}
		data, _ := json.MarshalIndent(keys, "", "  ")
		fmt.Fprintln(w, string(data))
		return 0
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPER MINUTE\tPER DAY\tUSED TODAY\tCREATED\tREVOKED")
	for _, k := range keys {
		revoked := "-"
		if k.RevokedAt != nil {
			revoked = k.RevokedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", k.ID, k.Name, k.PerMinute, k.PerDay, k.UsedToday,
			k.CreatedAt.UTC().Format(time.RFC3339), revoked)
	}
	_ = tw.Flush()
	return 0
}
