package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/suite"
)

// consortium makes n institutions' keys with keygen --public-out in dir and
// returns their ids, the private key files and a members file entry each.
func consortium(t *testing.T, dir string, alg string, n int) (ids []string, keys []*suite.KeyFile, entries []map[string]any) {
	t.Helper()
	roles := [][]string{{"regulator", "issuer", "submitter"}, {"recorder", "submitter"}, {"recorder", "submitter"}, {"recorder", "submitter"}, {"submitter"}}
	for i := range n {
		id, err := devnet.DevUSCC(i + 1)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub := filepath.Join(dir, id+".json"), filepath.Join(dir, id+".pub.json")
		if code, _, errs := runCmd(t, "keygen", "--institution", id, "--alg", alg, "--out", priv, "--public-out", pub); code != 0 {
			t.Fatalf("keygen: exit %d %s", code, errs)
		}
		kf, err := suite.LoadKeyFile(priv)
		if err != nil {
			t.Fatal(err)
		}
		e := map[string]any{"id": id, "name": "机构" + id[10:], "kind": "other", "roles": roles[i%len(roles)], "key_file": id + ".pub.json"}
		if i%len(roles) >= 1 && i%len(roles) <= 3 {
			e["categories"] = []string{"court-defaulter", "serious-dishonesty"}
		}
		ids, keys, entries = append(ids, id), append(keys, kf), append(entries, e)
	}
	return ids, keys, entries
}

func writeMembers(t *testing.T, path string, entries []map[string]any) {
	t.Helper()
	raw, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGenesisCreateFromPublicKeys(t *testing.T) {
	for _, alg := range []string{suite.Ed25519, suite.SM2} {
		t.Run(alg, func(t *testing.T) {
			dir := t.TempDir()
			ids, keys, entries := consortium(t, dir, alg, 5)
			members := filepath.Join(dir, "members.json")
			writeMembers(t, members, entries)
			out := filepath.Join(dir, "genesis.json")
			code, stdout, errs := runCmd(t, "genesis", "create", "--members", members, "--chain-id", "cc-fujian-test",
				"--out", out, "--time", "2026-11-25T00:00:00Z", "--block-interval", "200ms")
			if code != 0 {
				t.Fatalf("create: exit %d %s", code, errs)
			}
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			g, err := block.DecodeGenesis(raw)
			if err != nil {
				t.Fatalf("the written genesis does not decode: %v", err)
			}
			if g.ChainID != "cc-fujian-test" || g.CryptoSuite != alg || g.Limits.BlockInterval != "200ms" || g.Time != "2026-11-25T00:00:00Z" {
				t.Fatalf("genesis %s %s %+v %s", g.ChainID, g.CryptoSuite, g.Limits, g.Time)
			}
			if len(g.Members) != 5 || len(g.Epoch().Recorders()) != 3 || len(g.Policies) == 0 {
				t.Fatalf("%d members, %d recorders, %d policies", len(g.Members), len(g.Epoch().Recorders()), len(g.Policies))
			}
			for i, m := range g.Members {
				if m.ID != ids[i] || m.Keys[0].KeyID != keys[i].KeyID || string(m.Keys[0].Public) != string(keys[i].Public) {
					t.Fatalf("member %d: %+v, want %s with key %s", i, m, ids[i], keys[i].KeyID)
				}
				if strings.Contains(string(raw), base64.StdEncoding.EncodeToString(keys[i].Private)) {
					t.Fatalf("the genesis holds %s's private key", ids[i])
				}
			}
			if g.Issuer.ID != ids[0] || g.Issuer.KeyID != keys[0].KeyID {
				t.Fatalf("issuer %+v, want %s", g.Issuer, ids[0])
			}
			s, _ := g.Suite()
			gb, err := g.Block(s)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(stdout) != gb.Hash {
				t.Fatalf("create printed %q, the genesis block hash is %s", stdout, gb.Hash)
			}
			code, hashOut, errs := runCmd(t, "genesis", "hash", out)
			if code != 0 || strings.TrimSpace(hashOut) != gb.Hash {
				t.Fatalf("hash: exit %d %q %s, want %s", code, hashOut, errs, gb.Hash)
			}
			// A trust bundle (what certificate verifiers get) builds from it.
			if _, err := block.NewTrustBundle(g, s, nil); err != nil {
				t.Fatalf("trust bundle: %v", err)
			}
			// Never overwritten silently.
			if code, _, errs := runCmd(t, "genesis", "create", "--members", members, "--chain-id", "other", "--out", out); code != 1 || !strings.Contains(errs, "--force") {
				t.Fatalf("overwrite: exit %d %s", code, errs)
			}
			if again, _ := os.ReadFile(out); string(again) != string(raw) {
				t.Fatal("a refused create changed the genesis")
			}
		})
	}
}

func TestGenesisCreateRefusesBadMembers(t *testing.T) {
	dir := t.TempDir()
	ids, _, entries := consortium(t, dir, suite.Ed25519, 4)
	clone := func() []map[string]any {
		out := make([]map[string]any, len(entries))
		for i, e := range entries {
			out[i] = map[string]any{}
			for k, v := range e {
				out[i][k] = v
			}
		}
		return out
	}
	cases := map[string]struct {
		edit func([]map[string]any) []map[string]any
		want string
	}{
		"another's key": {func(m []map[string]any) []map[string]any { m[1]["key_file"] = ids[2] + ".pub.json"; return m }, "belongs to " + ids[2]},
		"unknown role":  {func(m []map[string]any) []map[string]any { m[1]["roles"] = []string{"judge"}; return m }, `unknown role "judge"`},
		"no key file":   {func(m []map[string]any) []map[string]any { delete(m[2], "key_file"); return m }, "no key_file"},
		"missing key":   {func(m []map[string]any) []map[string]any { m[2]["key_file"] = "nowhere.json"; return m }, "nowhere.json"},
		"unknown field": {func(m []map[string]any) []map[string]any { m[0]["rolez"] = []string{}; return m }, "rolez"},
		"twice":         {func(m []map[string]any) []map[string]any { return append(m, m[1]) }, "listed twice"},
		"no issuer":     {func(m []map[string]any) []map[string]any { m[0]["roles"] = []string{"regulator"}; return m }, "no member has the issuer role"},
		"no recorder": {func(m []map[string]any) []map[string]any {
			for _, e := range m[1:] {
				e["roles"] = []string{"submitter"}
			}
			return m
		}, "no active recorder"},
		"empty": {func([]map[string]any) []map[string]any { return []map[string]any{} }, "no members"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			members := filepath.Join(dir, "members-"+strings.ReplaceAll(name, " ", "-")+".json")
			writeMembers(t, members, c.edit(clone()))
			out := filepath.Join(t.TempDir(), "genesis.json")
			code, _, errs := runCmd(t, "genesis", "create", "--members", members, "--chain-id", "cc-test", "--out", out)
			if code != 1 || !strings.Contains(errs, c.want) {
				t.Fatalf("exit %d, stderr %q: want 1 naming %q", code, errs, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("a refused create wrote a genesis")
			}
		})
	}
}

func TestGenesisMixedAlgorithmsRefused(t *testing.T) {
	dir := t.TempDir()
	_, _, entries := consortium(t, dir, suite.Ed25519, 4)
	smID, err := devnet.DevUSCC(40)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCmd(t, "keygen", "--institution", smID, "--alg", suite.SM2, "--out", filepath.Join(dir, "sm.json"), "--public-out", filepath.Join(dir, "sm.pub.json")); code != 0 {
		t.Fatal(errs)
	}
	entries = append(entries, map[string]any{"id": smID, "name": "国密机构", "roles": []string{"submitter"}, "key_file": "sm.pub.json"})
	members := filepath.Join(dir, "members.json")
	writeMembers(t, members, entries)
	code, _, errs := runCmd(t, "genesis", "create", "--members", members, "--chain-id", "cc-test", "--out", filepath.Join(dir, "g.json"))
	if code != 1 || !strings.Contains(errs, "mix algorithms") {
		t.Fatalf("exit %d %q: want 1, keys mixing algorithms", code, errs)
	}
}

func TestGenesisUsageAndBadFiles(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"genesis"}, {"genesis", "create"}, {"genesis", "create", "--members", "m.json"}, {"genesis", "hash"}, {"genesis", "mint"},
		{"genesis", "create", "--members", "m.json", "--chain-id", "x", "--time", "yesterday"}} {
		if code, _, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"chain_id": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCmd(t, "genesis", "hash", bad); code != 1 || !strings.Contains(errs, "bad.json") {
		t.Fatalf("hash of an invalid genesis: exit %d %q", code, errs)
	}
}

func TestKeygenPublicOut(t *testing.T) {
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "k.json"), filepath.Join(dir, "k.pub.json")
	if code, _, errs := runCmd(t, "keygen", "--institution", testUSCC, "--out", priv, "--public-out", pub); code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	kf, err := suite.LoadKeyFile(priv)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(pub)
	if strings.Contains(string(raw), "private") {
		t.Fatalf("public key file holds a private key: %s", raw)
	}
	pk, err := suite.LoadPublicKeyFile(pub)
	if err != nil || pk.KeyID != kf.KeyID || pk.Institution != testUSCC {
		t.Fatalf("public key file %+v, %v; want key %s", pk, err, kf.KeyID)
	}
	// An existing public key file stops keygen before it writes anything.
	other := filepath.Join(dir, "other.json")
	if code, _, errs := runCmd(t, "keygen", "--institution", testUSCC, "--out", other, "--public-out", pub); code != 1 || !strings.Contains(errs, "--force") {
		t.Fatalf("exit %d %s", code, errs)
	}
	if _, err := os.Stat(other); err == nil {
		t.Fatal("keygen wrote a key whose public part it refused to write")
	}
	// A tampered key id is caught.
	tampered := strings.Replace(string(raw), kf.KeyID, strings.Repeat("0", len(kf.KeyID)), 1)
	if err := os.WriteFile(pub, []byte(tampered), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := suite.LoadPublicKeyFile(pub); err == nil || !strings.Contains(err.Error(), "key_id") {
		t.Fatalf("tampered key id: %v", err)
	}
}

// TestGenesisCreateRunsANetwork: a genesis written by genesis create from
// public key files starts a network whose recorders commit a transaction.
func TestGenesisCreateRunsANetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	pubs := filepath.Join(dir, "public")
	if err := errors.Join(os.MkdirAll(filepath.Join(dir, "keys"), 0o700), os.MkdirAll(pubs, 0o755)); err != nil {
		t.Fatal(err)
	}
	ids, _, entries := consortium(t, pubs, suite.Ed25519, 5)
	for _, id := range ids {
		// Each institution keeps its own key; here all run on one machine.
		if err := os.Rename(filepath.Join(pubs, id+".json"), filepath.Join(dir, "keys", id+".json")); err != nil {
			t.Fatal(err)
		}
	}
	members := filepath.Join(pubs, "members.json")
	writeMembers(t, members, entries)
	code, hash, errs := runCmd(t, "genesis", "create", "--members", members, "--chain-id", "cc-genesis-test",
		"--out", filepath.Join(dir, "genesis.json"), "--block-interval", "50ms", "--idle-interval", "500ms")
	if code != 0 {
		t.Fatalf("create: exit %d %s", code, errs)
	}
	n, _ := startTestNetworkIn(ctx, t, dir)
	if n.Genesis.ChainID != "cc-genesis-test" || len(n.Institutions) != 5 {
		t.Fatalf("network runs chain %s with %d institutions", n.Genesis.ChainID, len(n.Institutions))
	}
	code, out, errs := runCmd(t, "tx", "submit", "--network", filepath.Join(dir, "network.json"), "--key", filepath.Join(dir, "keys", ids[1]+".json"), "--example")
	if code != 0 || !strings.Contains(out, "committed at height") {
		t.Fatalf("submit: exit %d\n%s%s", code, out, errs)
	}
	db, err := n.ReplicaURL(ctx, ids[4])
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCmd(t, "ledger", "verify", "--database", db)
	if code != 0 || !strings.Contains(out, strings.TrimSpace(hash)) {
		t.Fatalf("ledger verify: exit %d, want the genesis hash %s in\n%s%s", code, strings.TrimSpace(hash), out, errs)
	}
}
