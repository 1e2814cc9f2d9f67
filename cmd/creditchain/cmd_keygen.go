package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/suite"
)

func init() {
	register("keygen", "make an institution key file: keygen --institution USCC [--alg ed25519|sm2] [--out FILE]", runKeygen)
}

func keygenUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: creditchain keygen --institution USCC [--alg ed25519|sm2] [--out FILE] [--force]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Generates a key pair for an institution and writes a key file")
	fmt.Fprintln(w, `{"institution", "key_id", "alg", "public", "private"} (mode 0600), then prints`)
	fmt.Fprintln(w, "the key id on stdout. --alg must match the chain's crypto suite (default")
	fmt.Fprintln(w, "ed25519). --out defaults to USCC.json in the current directory; an existing")
	fmt.Fprintln(w, "file is not overwritten without --force. --out - writes the key file to stdout")
	fmt.Fprintln(w, "and the key id to stderr.")
}

func runKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { keygenUsage(stderr) }
	institution := fs.String("institution", "", "institution USCC (required)")
	alg := fs.String("alg", suite.Ed25519, "key algorithm: ed25519 or sm2")
	out := fs.String("out", "", "key file to write (default USCC.json; - for stdout)")
	force := fs.Bool("force", false, "overwrite an existing key file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 || *institution == "" {
		keygenUsage(stderr)
		return 2
	}
	s, err := suite.ByName(*alg)
	if err != nil {
		fmt.Fprintf(stderr, "creditchain keygen: %v\n", err)
		return 2
	}
	if err := ids.CheckUSCC(*institution); err != nil {
		fmt.Fprintf(stderr, "creditchain keygen: --institution: %v\n", err)
		return 1
	}
	k, err := s.GenerateKey(rand.Reader)
	if err != nil {
		fmt.Fprintf(stderr, "creditchain keygen: %v\n", err)
		return 1
	}
	kf := suite.NewKeyFile(*institution, k)

	path := *out
	if path == "" {
		path = *institution + ".json"
	}
	if path == "-" {
		data, err := kf.Marshal()
		if err == nil {
			_, err = stdout.Write(data)
		}
		if err != nil {
			fmt.Fprintf(stderr, "creditchain keygen: %v\n", err)
			return 1
		}
		fmt.Fprintln(stderr, kf.KeyID)
		return 0
	}
	if !*force {
		if _, err := os.Stat(path); err == nil {
			fmt.Fprintf(stderr, "creditchain keygen: %s exists; use --force to replace it\n", path)
			return 1
		}
	}
	if err := kf.Save(path); err != nil {
		fmt.Fprintf(stderr, "creditchain keygen: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, kf.KeyID)
	return 0
}
