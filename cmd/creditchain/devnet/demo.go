package devnet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/txn"
)

// demoOrganizations are sample subjects with valid USCCs of real shape.
var demoOrganizations = []struct{ name, category, doc, term string }{
	{"厦门鹭岛建设工程有限公司", "court-defaulter", "(2026)闽02执123号", "P2Y"},
	{"厦门海沧远洋贸易有限公司", "court-defaulter", "(2025)闽02执887号", "P3Y"},
	{"厦门同安食品加工厂", "serious-dishonesty", "厦市监处〔2026〕45号", "P3Y"},
	{"厦门集美环保科技有限公司", "general-dishonesty", "厦环罚〔2026〕12号", "P1Y"},
	{"厦门思明税务代理有限公司", "general-dishonesty", "厦税稽罚〔2026〕7号", "P1Y"},
}

// LoadDemo submits realistic sample data once per data directory: records
// for organizations and a person, an attested performance and an exit.
func (n *Network) LoadDemo(ctx context.Context) error {
	marker := filepath.Join(n.opts.Dir, "demo.loaded")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	recorderFor := func(category string) int {
		for i, in := range n.Institutions {
			if in.Member.MayRecord(category) {
				return i
			}
		}
		return -1
	}
	start := time.Now().UTC().AddDate(0, -2, 0).Truncate(24 * time.Hour)
	var first string
	for i, o := range demoOrganizations {
		r := recorderFor(o.category)
		if r < 0 {
			continue
		}
		code, err := DevUSCC(500 + i)
		if err != nil {
			return err
		}
		c := n.Client(r)
		env, id, err := c.Sign(txn.TypeRecordCreate, ExampleRecord(code, o.name, o.category, o.doc, start, o.term))
		if err != nil {
			return err
		}
		if _, err := c.Submit(ctx, env, nil); err != nil {
			return err
		}
		if first == "" && o.category == "court-defaulter" {
			first = id
		}
	}
	if err := n.demoPerson(ctx, start, recorderFor("court-defaulter")); err != nil {
		return err
	}
	if first != "" {
		court := recorderFor("court-defaulter")
		c := n.Client(court)
		if st, err := c.Wait(ctx, first); err != nil || st.Status != "committed" {
			return fmt.Errorf("demo record: %v %v", st, err)
		}
		env, id, _ := c.Sign(txn.TypeRecordAttest, map[string]any{"record_id": first, "kind": "performed", "at": txn.FormatTime(time.Now().UTC().Add(-time.Hour))})
		if _, err := c.Submit(ctx, env, nil); err != nil {
			return err
		}
		if _, err := c.Wait(ctx, id); err != nil {
			return err
		}
	}
	return os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}

func (n *Network) demoPerson(ctx context.Context, start time.Time, court int) error {
	if court < 0 || !n.Institutions[court].Member.HasRole(membership.RoleRecorder) {
		return nil
	}
	salt := make([]byte, 32)
	_, _ = rand.Read(salt)
	p := &txn.Personal{Name: "张三", IDNumber: "11010519491231002X", Salt: hex.EncodeToString(salt)}
	c := n.Client(court)
	commitment, err := txn.Commitment(c.Suite, p)
	if err != nil {
		return err
	}
	payload := ExampleRecord("", "", "court-defaulter", "(2026)闽02执456号", start, "P2Y")
	payload["subject"] = map[string]any{"kind": "person", "commitment": commitment}
	env, _, err := c.Sign(txn.TypeRecordCreate, payload)
	if err != nil {
		return err
	}
	_, err = c.Submit(ctx, env, p)
	return err
}
