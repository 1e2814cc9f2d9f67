package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/creditchain/creditchain/pkg/cert"
)

// artifactsDir keeps the screenshots of the browser tests (gitignored):
// look at them when a page changes.
const artifactsDir = "artifacts"

// browser is a headless Chromium driven over the DevTools protocol, with
// the console watched: any exception or console error fails the test (a
// Content-Security-Policy violation is one).
type browser struct {
	t       *testing.T
	ctx     context.Context
	console *consoleLog
}

// consoleLog collects the console's errors and exceptions.
type consoleLog struct {
	mu       sync.Mutex
	problems []string
}

// with is the browser reporting to t (a subtest).
func (b *browser) with(t *testing.T) *browser { return &browser{t: t, ctx: b.ctx, console: b.console} }

// newBrowser starts Debian's Chromium headless, as root, with a fresh
// profile. There is no fallback: the portal's verification runs only in a
// browser, so without one this test fails (.ci/run installs chromium).
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatal("no Chromium found (apt-get install chromium): the portal's browser verification cannot be tested")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // as root, Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, console: &consoleLog{}}
	// The first action starts the browser, bound to ctx (no timeout).
	console := chromedp.Console(ctx)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" {
				b.console.mu.Lock()
				b.console.problems = append(b.console.problems, fmt.Sprintf("%s:%d %s", m.URL, m.Line+1, m))
				b.console.mu.Unlock()
			}
		}
	}()
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return b
}

// do runs actions with a time limit.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// run runs one action that returns a value, with a time limit.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// click clicks a link and waits for the page it leads to.
func click[S chromedp.Selectable](b *browser, what string, sel S) {
	b.t.Helper()
	run(b, what, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(sel)))
}

// screenshot saves the whole page as artifacts/<name>.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png := run(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(artifactsDir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// verdict waits until the page's verification status is valid or invalid
// and returns it with the names of the checks passed and failed.
func (b *browser) verdict() (state string, ok, bad []string) {
	b.t.Helper()
	state = run(b, "verdict", chromedp.Poll[string](`(s => s === "valid" || s === "invalid" ? s : null)(document.getElementById("verify-status").dataset.state)`,
		chromedp.WithPollingTimeout(45*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
	raw := run(b, "checks", chromedp.Evaluate[[]byte](`Array.from(document.querySelectorAll("#verify-checks li")).map(li => [li.className, li.dataset.check])`))
	var items [][2]string
	if err := json.Unmarshal(raw, &items); err != nil {
		b.t.Fatalf("checks %s: %v", raw, err)
	}
	for _, it := range items {
		if it[0] == "ok" {
			ok = append(ok, it[1])
		} else {
			bad = append(bad, it[1])
		}
	}
	return state, ok, bad
}

// text is the text of the first element matching a CSS selector, read in
// the page (not through DOM node ids, which a navigation invalidates).
func (b *browser) text(css string) string {
	b.t.Helper()
	sel, _ := json.Marshal(css)
	return run(b, "text of "+css, chromedp.Poll[string](fmt.Sprintf(`(e => e && e.innerText.trim())(document.querySelector(%s))`, sel),
		chromedp.WithPollingTimeout(30*time.Second)))
}

func (b *browser) lang() string {
	return run(b, "html lang", chromedp.Evaluate[string](`document.documentElement.lang`))
}

func (b *browser) location() string { return run(b, "location", chromedp.Location()) }

func (b *browser) html() string {
	return run(b, "page", chromedp.Evaluate[string](`document.documentElement.outerHTML`))
}

// TestPortalInBrowser drives the portal as a visitor would, in Chromium:
// search, a subject and a record (its "verified" panel checks the proof and
// the cosignatures in the browser), certificates valid and tampered,
// uploaded as PDF and as JWS, a revoked one, and the language switch.
// Screenshots of each page go to e2e/artifacts/.
func TestPortalInBrowser(t *testing.T) {
	f := newPortalFixture(t)
	browser := newBrowser(t)
	portal := f.portal

	t.Run("search an organization, its subject and record pages", func(t *testing.T) {
		b := browser.with(t)
		b.do("search page", chromedp.Navigate(portal+"/"), chromedp.WaitVisible(chromedp.ID("code")))
		if b.lang() != "zh-CN" {
			t.Errorf("html lang %q", b.lang())
		}
		b.screenshot("index")
		b.do("type the code", chromedp.SendKeys(chromedp.ID("code"), f.active))
		click(b, "search", chromedp.ID("search-submit"))
		if loc := b.location(); !strings.HasSuffix(loc, "/subjects/"+f.active) {
			t.Errorf("organization search led to %s", loc)
		}
		if s := b.text("#subject-status"); s != "已列入失信惩戒名单" {
			t.Errorf("subject status %q", s)
		}
		b.screenshot("subject")
		click(b, "record link", chromedp.CSS("a.record-link"))
		if id := b.text("#record-id"); id != f.activeRec {
			t.Fatalf("record page of %q, want %s", id, f.activeRec)
		}
		state, ok, bad := b.verdict()
		want := "format transaction tx_signature inclusion block_hash epoch cosignatures quorum"
		if state != "valid" || len(bad) != 0 || strings.Join(ok, " ") != want {
			t.Errorf("record verified %q, passed %v, failed %v; want valid with %s", state, ok, bad, want)
		}
		if s := b.text("#verify-status"); !strings.Contains(s, "已验证") {
			t.Errorf("verdict text %q", s)
		}
		b.screenshot("record")
	})

	t.Run("search a person: masked, ID out of the URL", func(t *testing.T) {
		b := browser.with(t)
		b.do("type the ID number", chromedp.Navigate(portal+"/"), chromedp.SendKeys(chromedp.ID("code"), personID))
		click(b, "person search", chromedp.ID("search-submit"))
		if loc := b.location(); strings.Contains(loc, personID) || !strings.HasSuffix(loc, "/") {
			t.Errorf("person search led to %s", loc)
		}
		page := b.html()
		if !strings.Contains(page, personMasked) || strings.Contains(page, personID) || strings.Contains(page, personName) {
			t.Errorf("person page: masked shown %v, full ID %v, full name %v", strings.Contains(page, personMasked),
				strings.Contains(page, personID), strings.Contains(page, personName))
		}
		// Exited records are not published: the person is clear.
		if s := b.text("#subject-status"); s != "未列入" {
			t.Errorf("person status %q", s)
		}
		b.screenshot("person")
	})

	t.Run("verify a certificate from its QR code link", func(t *testing.T) {
		b := browser.with(t)
		b.do("verify page", chromedp.Navigate(portal+"/verify?cert="+f.orgCert.CertNo))
		state, ok, bad := b.verdict()
		want := "format issuer_key signature credential exit_tx inclusion block_hash epoch cosignatures quorum status"
		if state != "valid" || len(bad) != 0 || strings.Join(ok, " ") != want {
			t.Errorf("certificate %q, passed %v, failed %v; want valid with %s", state, ok, bad, want)
		}
		if no := b.text(`#verify-summary dd[data-field="cert_no"]`); no != f.orgCert.CertNo {
			t.Errorf("summary shows certificate %q", no)
		}
		b.screenshot("verify-valid")
	})

	t.Run("verify uploaded files", func(t *testing.T) {
		b := browser.with(t)
		dir := t.TempDir()
		write := func(name string, data []byte) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		upload := func(path string) (string, []string, []string) {
			b.do("upload "+filepath.Base(path), chromedp.Navigate(portal+"/verify"), chromedp.WaitVisible(chromedp.ID("verify-file")),
				chromedp.SetUploadFiles(chromedp.ID("verify-file"), []string{path}), chromedp.Click(chromedp.ID("verify-submit")))
			return b.verdict()
		}
		// The PDF: the browser finds the attached certificate.jws itself.
		if state, _, bad := upload(write("person.pdf", f.personCert.PDF)); state != "valid" || len(bad) != 0 {
			t.Errorf("person's PDF: %s, failed %v", state, bad)
		}
		// One changed byte of the payload: the issuer's signature fails.
		parts := strings.Split(f.orgCert.JWS, ".")
		tampered := parts[0] + "." + parts[1][:30] + flipB64(parts[1][30]) + parts[1][31:] + "." + parts[2]
		state, _, bad := upload(write("tampered.jws", []byte(tampered)))
		if state != "invalid" || len(bad) != 1 || bad[0] != "signature" {
			t.Errorf("tampered JWS: %s, failed %v; want invalid at signature", state, bad)
		}
		if s := b.text("#verify-status"); !strings.Contains(s, "无效") {
			t.Errorf("verdict text %q", s)
		}
		b.screenshot("verify-invalid")
		// Re-signed by the issuer but with a doctored proof: the signature
		// holds, the inclusion proof does not.
		state, _, bad = upload(write("doctored.json", jsonBody(t, map[string]string{"jws": doctorProof(t, f)})))
		if state != "invalid" || len(bad) != 1 || bad[0] != "inclusion" {
			t.Errorf("doctored proof: %s, failed %v; want invalid at inclusion", state, bad)
		}
	})

	t.Run("language switch", func(t *testing.T) {
		b := browser.with(t)
		b.do("index", chromedp.Navigate(portal+"/ledger"), chromedp.WaitVisible(chromedp.ID("head-height")))
		if b.lang() != "zh-CN" {
			t.Fatalf("html lang %q", b.lang())
		}
		b.screenshot("ledger")
		click(b, "switch", chromedp.ID("lang-switch"))
		if h := b.text("h1"); h != "Ledger" || !strings.HasSuffix(b.location(), "/ledger?lang=en") {
			t.Errorf("after the switch: h1 %q at %s", h, b.location())
		}
		b.screenshot("ledger-en")
		// Links keep the language; the switch leads back.
		click(b, "nav", chromedp.CSS(`nav a[href="/verify?lang=en"]`))
		if b.lang() != "en" {
			t.Errorf("the navigation lost the language: %q", b.lang())
		}
		click(b, "switch back", chromedp.ID("lang-switch"))
		if h := b.text("h1"); h != "退出证明验证" {
			t.Errorf("switched back: h1 %q", h)
		}
	})

	// Last: it revokes a certificate.
	t.Run("revoked certificate", func(t *testing.T) {
		b := browser.with(t)
		f.revoke(t, f.personCert.CertNo)
		b.do("verify page", chromedp.Navigate(portal+"/verify?cert="+f.personCert.CertNo+"&lang=en"))
		state, ok, bad := b.verdict()
		if state != "invalid" || len(bad) != 1 || bad[0] != "revoked" || len(ok) != 10 {
			t.Errorf("revoked certificate: %s, passed %v, failed %v", state, ok, bad)
		}
		b.screenshot("verify-revoked")
	})

	browser.console.mu.Lock()
	defer browser.console.mu.Unlock()
	for _, p := range browser.console.problems {
		t.Errorf("browser console: %s", p)
	}
}

// doctorProof is the organization's certificate with the first step of
// its inclusion proof changed, signed again with the issuer's key: a
// certificate whose signature verifies but whose proof does not.
func doctorProof(t *testing.T, f *portalFix) string {
	t.Helper()
	_, cred, err := cert.Parse(f.orgCert.JWS)
	if err != nil {
		t.Fatal(err)
	}
	p := cred.CredentialSubject.Ledger.Inclusion.Proof
	if len(p) == 0 {
		t.Fatal("the inclusion proof has no step to change")
	}
	p[0] = strings.Repeat("0", len(p[0]))
	key := f.n.Institutions[center].Key
	signed, err := cert.Sign(f.courtS.suite, cred, key.PrivateKey(), key.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := cert.Verify(signed.JWS, f.tb); err == nil || res.Checks[len(res.Checks)-1].Name != cert.CheckInclusion {
		t.Fatalf("the doctored certificate does not fail at the inclusion check in Go: %v", err)
	}
	return signed.JWS
}
