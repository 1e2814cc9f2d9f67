// Package portal is the presentation of the public portal (DESIGN 9.7
// "Portal paths"): server-rendered html/template pages in Chinese (the
// default) and English, and the static assets, all embedded. The query
// service reads the replica and hands the data to Render; nothing here
// touches the database.
//
// The pages work without JavaScript. Only verification needs it: the
// record page's "verified" panel and the /verify page check inclusion
// proofs, block hashes, cosignatures and certificate signatures in the
// browser (static/ccverify.js, WebCrypto SHA-256 and Ed25519), so that a
// visitor need not trust the server that sent the page for the verdict.
package portal

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Languages: zh-CN by default, English with ?lang=en.
const (
	ZH = "zh-CN"
	EN = "en"
)

// Pages are the templates Render knows, each rendered inside layout.html.
var Pages = []string{"index", "subject", "record", "verify", "ledger", "certificate", "error"}

// Site holds the parsed pages.
type Site struct {
	pages map[string]*template.Template
}

// New parses every page with the layout.
func New() (*Site, error) {
	s := &Site{pages: map[string]*template.Template{}}
	for _, p := range Pages {
		t, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("portal: page %s: %w", p, err)
		}
		s.pages[p] = t
	}
	return s, nil
}

// MustNew is New for embedded templates, whose errors are bugs that the
// package's tests catch.
func MustNew() *Site {
	s, err := New()
	if err != nil {
		panic(err)
	}
	return s
}

// Lang is the request's language: English only when asked with ?lang=en.
func Lang(r *http.Request) string {
	if r.URL.Query().Get("lang") == "en" {
		return EN
	}
	return ZH
}

// Render writes view as a complete page. The page is rendered into a
// buffer first so that a template error never leaves half a page behind.
func (s *Site) Render(w http.ResponseWriter, v *View) error {
	t, ok := s.pages[v.Page]
	if !ok {
		return fmt.Errorf("portal: no page %q", v.Page)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return fmt.Errorf("portal: render %s: %w", v.Page, err)
	}
	h := w.Header()
	SecurityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", v.Lang)
	// Pages show look-ups, persons' included: no shared cache keeps them.
	h.Set("Cache-Control", "no-store")
	status := v.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// CSP allows scripts, styles, images and connections from the portal's
// own origin only: no inline script, no eval, no third-party code that
// could change a verdict shown on the page.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// SecurityHeaders sets the headers every portal answer carries.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// Pages are reached with certificate numbers and record ids in their
	// URLs; other sites need not learn them.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// Static serves the embedded assets under /static/.
func Static() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the directory is embedded
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SecurityHeaders(w.Header())
		// Embedded files carry no modification time, so revalidation
		// cannot be conditional; they are small and change with releases.
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// withLang is path in language lang: ?lang=en added for English.
func withLang(path, lang string) string {
	if lang != EN {
		return path
	}
	u, err := url.Parse(path)
	if err != nil {
		return path
	}
	q := u.Query()
	q.Set("lang", EN)
	u.RawQuery = q.Encode()
	return u.String()
}
