package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/cert"
	"github.com/creditchain/creditchain/services/signer"
)

func init() {
	register("cert", "verify or revoke exit certificates: cert verify FILE [--trust FILE] [--online URL] | cert revoke CERT_NO ...", runCert)
}

func runCert(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		certUsage(stderr)
		return 2
	}
	switch args[0] {
	case "verify":
		return runCertVerify(args[1:], stdout, stderr)
	case "revoke":
		return runCertRevoke(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		certUsage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "creditchain cert: unknown subcommand %q\n", args[0])
	certUsage(stderr)
	return 2
}

func certUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: creditchain cert verify FILE [--trust FILE] [--online URL] [--json]")
	fmt.Fprintln(w, "       creditchain cert revoke CERT_NO --reason TEXT --key FILE (--network FILE | --chain ID --intake URL)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "verify checks an exit certificate offline against a trust bundle: the issuer's")
	fmt.Fprintln(w, "JWS signature, the exit transaction's signature, its inclusion proof against the")
	fmt.Fprintln(w, "block header, the header's hash and the recorders' cosignature quorum.")
	fmt.Fprintln(w, "FILE is a compact JWS (.jws text), a JSON document holding one (\"jws\" member,")
	fmt.Fprintln(w, "as the query API returns it, or an EnvelopedVerifiableCredential), or the")
	fmt.Fprintln(w, "certificate PDF (its embedded certificate.jws). Flags may come before or after FILE.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  --trust FILE   the trust bundle (trust.json, or GET /v1/ledger/trust)")
	fmt.Fprintln(w, "  --online URL   also ask the query service at URL whether the certificate is")
	fmt.Fprintln(w, "                 still valid (not revoked): GET URL/v1/certificates/{cert_no};")
	fmt.Fprintln(w, "                 without --trust, the trust bundle is fetched from URL/v1/ledger/trust")
	fmt.Fprintln(w, "  --json         print the result as JSON {valid, cert_no, checks, reason}")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit 0 valid, 1 invalid (the reason is printed), 2 usage error.")
}

// parseInterleaved parses fs from args where flags may follow positional
// arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func runCertVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain cert verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { certUsage(stderr) }
	trustFile := fs.String("trust", "", "trust bundle file")
	online := fs.String("online", "", "query service base URL")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "creditchain cert verify: "+format+"\n", a...)
		return 2
	}
	switch {
	case len(pos) != 1:
		return usageErr("give exactly one FILE (got %d arguments)", len(pos))
	case *trustFile == "" && *online == "":
		return usageErr("give --trust FILE (or --online URL to fetch the trust bundle)")
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "creditchain cert verify: invalid: "+format+"\n", a...)
		return 1
	}
	jws, err := readCertificate(pos[0])
	if err != nil {
		return fail("%v", err)
	}
	client := &http.Client{Timeout: 15 * time.Second}
	tb, err := loadTrust(client, *trustFile, *online)
	if err != nil {
		fmt.Fprintf(stderr, "creditchain cert verify: trust bundle: %v\n", err)
		return 1
	}
	res, verr := cert.Verify(jws, tb)
	if verr == nil && *online != "" {
		check := cert.Check{Name: "online", OK: true}
		if err := checkOnline(client, *online, res.CertNo, jws); err != nil {
			check.OK, check.Detail = false, err.Error()
			res.Valid, res.Reason = false, "online: "+err.Error()
			verr = err
		} else {
			check.Detail = "valid (not revoked) at " + *online
		}
		res.Checks = append(res.Checks, check)
	}
	if *asJSON {
		out, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(stdout, string(out))
	} else {
		printResult(stdout, res)
	}
	if verr != nil {
		return fail("%s", res.Reason)
	}
	return 0
}

func printResult(w io.Writer, res *cert.Result) {
	if res.CertNo != "" {
		fmt.Fprintf(w, "certificate %s\n", res.CertNo)
	}
	for _, c := range res.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %-13s %s\n", mark, c.Name, c.Detail)
	}
	if res.Valid {
		fmt.Fprintln(w, "valid")
	} else {
		fmt.Fprintln(w, "invalid: "+res.Reason)
	}
}

// readCertificate reads the compact JWS from a .jws text file, a JSON
// document holding one, or a certificate PDF.
func readCertificate(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if bytes.HasPrefix(data, []byte("%PDF-")) {
		jws, err := signer.ExtractJWS(data)
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		return jws, nil
	}
	jws, err := cert.ReadJWS(data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return jws, nil
}

// loadTrust reads the trust bundle file, or fetches it from the query
// service when no file is given.
func loadTrust(client *http.Client, file, online string) (*block.TrustBundle, error) {
	var data []byte
	var err error
	if file != "" {
		data, err = os.ReadFile(file)
	} else {
		data, err = getJSON(client, strings.TrimRight(online, "/")+"/v1/ledger/trust")
	}
	if err != nil {
		return nil, err
	}
	var tb block.TrustBundle
	if err := json.Unmarshal(data, &tb); err != nil {
		return nil, fmt.Errorf("not a trust bundle: %w", err)
	}
	if tb.ChainID == "" || tb.CryptoSuite == "" || tb.Issuer.KeyID == "" {
		return nil, errors.New("not a trust bundle: no chain_id, crypto_suite or issuer")
	}
	return &tb, nil
}

// checkOnline asks the query service whether certificate certNo is still
// valid, and that it holds this very JWS under that number.
func checkOnline(client *http.Client, base, certNo, jws string) error {
	data, err := getJSON(client, strings.TrimRight(base, "/")+"/v1/certificates/"+url.PathEscape(certNo))
	if err != nil {
		return err
	}
	var doc struct {
		CertNo string `json:"cert_no"`
		Status string `json:"status"`
		JWS    string `json:"jws"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("unexpected answer: %w", err)
	}
	switch {
	case doc.CertNo != certNo:
		return fmt.Errorf("the service answered for certificate %q", doc.CertNo)
	case doc.Status == "revoked":
		return fmt.Errorf("certificate %s has been revoked", certNo)
	case doc.Status != "valid":
		return fmt.Errorf("certificate %s has status %q", certNo, doc.Status)
	case doc.JWS != "" && doc.JWS != jws:
		return fmt.Errorf("the service holds another certificate under number %s", certNo)
	}
	return nil
}

func getJSON(client *http.Client, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("online check: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("online check: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("GET %s: not found (unknown to that service)", u)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, strings.TrimSpace(string(data)))
	}
	return data, nil
}
