package portal

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// samples are data for every page, persons masked as the query service
// hands them over.
func samples() map[string]any {
	row := RecordRow{RecordID: strings.Repeat("ab", 32), Subject: Subject{Kind: "person", Code: "110105********002X", Name: "欧**"},
		Category: "court-defaulter", Authority: "91350200776049653A", AuthorityName: "厦门市中级人民法院",
		DocumentNo: "(2026)闽02执123号", DecidedAt: "2026-01-05T00:00:00Z", Law: "民事诉讼法", Start: "2026-01-05T00:00:00Z",
		Term: "P2Y", Measures: []string{"high_consumption_ban", "something_new"}, Status: "exited"}
	links := CertificateLinks{CertNo: "CC-2026-69567B62EE1C0DE9", JSONURL: "/v1/certificates/CC-2026-69567B62EE1C0DE9",
		PDFURL: "/v1/certificates/CC-2026-69567B62EE1C0DE9.pdf"}
	blk := BlockRow{Height: 7, Hash: strings.Repeat("cd", 32), Time: "2026-11-25T08:00:00.5Z", Proposer: "91350200776049653A", TxCount: 3, Cosignatures: 3}
	return map[string]any{
		"index":   IndexPage{SearchError: "search.invalid", SearchDetail: "bad check character"},
		"subject": SubjectPage{Code: "110105********002X", Kind: "person", Status: "listed", Name: "欧**", Records: []RecordRow{row}},
		"record": RecordPage{Record: row, PolicyID: "court-defaulter", PolicyVersion: 1,
			History: []HistoryRow{{TxID: row.RecordID, Type: "record.create", Height: 3, Time: "2026-01-05T00:00:01Z"}},
			Exit:    &ExitInfo{TxID: strings.Repeat("ef", 32), Height: 9, Reason: "obligations performed"}, Certificate: &links,
			Script: map[string]any{"record_id": row.RecordID, "anchor": 9, "note": "</script><script>alert(1)</script>"}},
		"verify":      VerifyPage{CertNo: links.CertNo},
		"certificate": CertificatePage{CertificateLinks: links},
		"ledger": LedgerPage{ChainID: "creditchain-dev", Suite: "ed25519", Quorum: "two-thirds", GenesisHash: strings.Repeat("00", 32),
			Head: blk, Blocks: []BlockRow{blk}, Members: []MemberRow{{ID: "91350200776049653A", Name: "信用中心", Kind: "credit_center", Roles: []string{"recorder", "issuer"}}},
			Policies: []PolicyRow{{ID: "court-defaulter", Version: 1, PurgeAfter: "P5Y", Description: "失信被执行人\nCourt defaulters"}}},
		"error": ErrorPage{Title: "error.rate_limited", Hint: "hint.rate_limited", Code: "rate_limited", Message: "anonymous look-ups are limited"},
	}
}

// TestEveryPageRenders renders every page in both languages and checks
// the language attribute, the switch, landmarks and that no message key
// shows through untranslated.
func TestEveryPageRenders(t *testing.T) {
	site, err := New()
	if err != nil {
		t.Fatal(err)
	}
	data := samples()
	if len(data) != len(Pages) {
		t.Fatalf("%d samples for %d pages", len(data), len(Pages))
	}
	keyLike := regexp.MustCompile(`\b(?:title|index|search|request|subject|record|history|proof|verify|certificate|ledger|member|policy|error|hint|term|js)\.[a-z_]+\b`)
	for _, page := range Pages {
		for _, q := range []string{"", "?lang=en"} {
			r := httptest.NewRequest(http.MethodGet, "/somewhere"+q, nil)
			w := httptest.NewRecorder()
			title := "title." + page
			if page == "error" {
				title = "error.rate_limited"
			}
			if err := site.Render(w, NewView(r, page, title, data[page])); err != nil {
				t.Fatalf("%s%s: %v", page, q, err)
			}
			body := w.Body.String()
			lang, other := ZH, "/somewhere?lang=en"
			if q != "" {
				lang, other = EN, "/somewhere"
			}
			for _, want := range []string{`<html lang="` + lang + `">`, `id="lang-switch" class="lang" href="` + other + `"`,
				"<main id=\"main\">", "<nav aria-label=", "<h1>"} {
				if !strings.Contains(body, want) {
					t.Errorf("%s%s lacks %q", page, q, want)
				}
			}
			// Keys in the page's text (outside the JSON blocks handed to
			// scripts) mean a missing message.
			text := regexp.MustCompile(`(?s)<script.*?</script>`).ReplaceAllString(body, "")
			if k := keyLike.FindString(text); k != "" {
				t.Errorf("%s%s shows the message key %q", page, q, k)
			}
			if strings.Contains(body, "<script>alert(1)") {
				t.Errorf("%s: script data is not escaped", page)
			}
			if w.Header().Get("Content-Security-Policy") != CSP || w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("%s: headers %v", page, w.Header())
			}
		}
	}
}

// TestMessagesComplete checks every message has both languages and every
// key a template names exists.
func TestMessagesComplete(t *testing.T) {
	for k, m := range messages {
		if m.zh == "" || m.en == "" {
			t.Errorf("message %q lacks a language", k)
		}
	}
	used := regexp.MustCompile(`\.T "([^"]+)"`)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(templateFS, path)
		if err != nil {
			return err
		}
		for _, m := range used.FindAllStringSubmatch(string(raw), -1) {
			if _, ok := messages[m[1]]; !ok {
				t.Errorf("%s uses message %q, which does not exist", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The scripts name their checks; each needs a label.
	for _, c := range []string{"format", "issuer_key", "signature", "credential", "exit_tx", "inclusion", "block_hash", "epoch",
		"cosignatures", "quorum", "status", "revoked", "transaction", "tx_signature", "error"} {
		if _, ok := messages["js.check."+c]; !ok {
			t.Errorf("no label for check %s", c)
		}
	}
}

func TestViewFormatting(t *testing.T) {
	zh := NewView(httptest.NewRequest(http.MethodGet, "/", nil), "index", "title.index", nil)
	en := NewView(httptest.NewRequest(http.MethodGet, "/?lang=en", nil), "index", "title.index", nil)
	for _, c := range []struct{ got, want string }{
		{zh.Term("P2Y"), "2年"}, {en.Term("P1Y6M"), "1 year 6 months"}, {zh.Term(""), "无固定期限"}, {en.Term("PT5M"), "PT5M"},
		{zh.Time("2026-01-05T16:00:00Z"), "2026-01-06 00:00:00 北京时间"}, {en.Date("2026-01-05T16:00:00.123456789Z"), "2026-01-06"},
		{zh.Label("category", "court-defaulter"), "失信被执行人"}, {en.Label("category", "new-category"), "new-category"},
		{zh.L("/verify?cert=X"), "/verify?cert=X"}, {en.L("/verify?cert=X"), "/verify?cert=X&lang=en"},
		{zh.SwitchURL(), "/?lang=en"}, {en.SwitchURL(), "/"},
		{zh.Text("一般失信。\nGeneral dishonesty."), "一般失信。"}, {en.Text("一般失信。\nGeneral dishonesty."), "General dishonesty."},
		{en.Text("只有中文"), "只有中文"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	// After a POST the switch leads to the page itself, never repeating
	// what was posted.
	post := NewView(httptest.NewRequest(http.MethodPost, "/?lang=en", strings.NewReader("code=11010519491231002X")), "subject", "title.subject", nil)
	if post.SwitchURL() != "/" {
		t.Errorf("switch after POST: %q", post.SwitchURL())
	}
}

func TestStaticAssets(t *testing.T) {
	h := Static()
	for path, ctype := range map[string]string{"/static/style.css": "text/css", "/static/ccverify.js": "text/javascript",
		"/static/record.js": "text/javascript", "/static/verify.js": "text/javascript"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), ctype) || w.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d %q", path, w.Code, w.Header().Get("Content-Type"))
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/static/nothing.js", nil))
	if w.Code != 404 {
		t.Errorf("missing asset: %d", w.Code)
	}
}
