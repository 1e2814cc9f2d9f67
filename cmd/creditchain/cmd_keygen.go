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
	register("keygen", "make an institution key file: keygen --institution USCC [--alg ed25519|sm2] [--out FILE] [--public-out FILE]", runKeygen)
}

func keygenUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: creditchain keygen --institution USCC [--alg ed25519|sm2] [--out FILE] [--public-out FILE] [--force]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Generates a key pair for an institution and writes a key file")
	fmt.Fprintln(w, `{"institution", "key_id", "alg", "public", "private"} (mode 0600), then prints`)
	fmt.Fprintln(w, "the key id on stdout. --alg must match the chain's crypto suite (default")
	fmt.Fprintln(w, "ed25519). --out defaults to USCC.json in the current directory; an existing")
	fmt.Fprintln(w, "file is not overwritten without --force. --out - writes the key file to stdout")
	fmt.Fprintln(w, "and the key id to stderr. --public-out also writes the public part")
	fmt.Fprintln(w, `{"institution", "key_id", "alg", "public"}: what the institution hands to`)
	fmt.Fprintln(w, "the consortium for `creditchain genesis create` or a member update.")
}

func runKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { keygenUsage(stderr) }
	institution := fs.String("institution", "", "institution USCC (required)")
	alg := fs.String("alg", suite.Ed25519, "key algorithm: ed25519 or sm2")
	out := fs.String("out", "", "key file to write (default USCC.json; - for stdout)")
	force := fs.Bool("force", false, "overwrite an existing key file")
	publicOut := fs.String("public-out", "", "also write the public key file here")
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
	// Refuse before writing anything: a public key file without its key
	// (or the reverse) would be handed to the consortium by mistake.
	if !*force {
		for _, p := range []string{path, *publicOut} {
			if p == "" || p == "-" {
				continue
			}
			if _, err := os.Stat(p); err == nil {
				fmt.Fprintf(stderr, "creditchain keygen: %s exists; use --force to replace it\n", p)
				return 1
			}
		}
	}
	if *publicOut != "" {
		if err := writePublicKeyFile(kf, *publicOut); err != nil {
			fmt.Fprintf(stderr, "creditchain keygen: %v\n", err)
			return 1
		}
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
	if err := kf.Save(path); err != nil {
		fmt.Fprintf(stderr, "creditchain keygen: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, kf.KeyID)
	return 0
}

// writePublicKeyFile writes kf's public part to path.
func writePublicKeyFile(kf *suite.KeyFile, path string) error {
	data, err := kf.PublicPart().Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing public key file: %w", err)
	}
	return nil
}
