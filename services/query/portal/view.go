package portal

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// View is what a page template sees: the data, the language and the
// helpers that translate and format for it.
type View struct {
	Lang string
	// Page is the template and the navigation entry shown as current.
	Page string
	// Title is the message key of the page's title.
	Title string
	Data  any
	// Status is the HTTP status (200 when zero).
	Status int
	// switchURL is this page in the other language.
	switchURL string
}

// NewView is page with data, in the request's language. The language
// switch leads to the same URL in the other language; after a POST (a
// look-up whose code must stay out of URLs) it leads to the search page.
func NewView(r *http.Request, page, title string, data any) *View {
	v := &View{Lang: Lang(r), Page: page, Title: title, Data: data}
	u := *r.URL
	if r.Method != http.MethodGet {
		u.RawQuery = ""
	}
	q := u.Query()
	if v.Lang == EN {
		q.Del("lang")
	} else {
		q.Set("lang", EN)
	}
	u.RawQuery = q.Encode()
	v.switchURL = u.RequestURI()
	return v
}

// SwitchURL is this page in the other language.
func (v *View) SwitchURL() string { return v.switchURL }

// OtherLang is the language the switch leads to.
func (v *View) OtherLang() string {
	if v.Lang == EN {
		return ZH
	}
	return EN
}

// T is the message key in the page's language, formatted with args when
// given. A missing key shows as itself, which the tests refuse.
func (v *View) T(key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	s := m.zh
	if v.Lang == EN {
		s = m.en
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Label translates a value of a known vocabulary (category, status, tx
// type, measure, role, kind): kind.value when there is a message for it,
// else the value itself, since vocabularies may grow on the ledger.
func (v *View) Label(kind, value string) string {
	if _, ok := messages[kind+"."+value]; ok {
		return v.T(kind + "." + value)
	}
	return value
}

// L is path in the page's language.
func (v *View) L(path string) string { return withLang(path, v.Lang) }

// cst is Beijing time, in which the portal shows times.
var cst = time.FixedZone("CST", 8*3600)

// Time shows an RFC 3339 time in Beijing time.
func (v *View) Time(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.In(cst).Format("2006-01-02 15:04:05") + " " + v.T("time.zone")
}

// Date shows the Beijing date of an RFC 3339 time.
func (v *View) Date(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.In(cst).Format("2006-01-02")
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$`)

// Term shows an ISO 8601 duration of years, months, weeks and days in
// words; empty is "indefinite"; anything else is shown as written.
func (v *View) Term(s string) string {
	if s == "" {
		return v.T("term.indefinite")
	}
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || s == "P" {
		return s
	}
	var parts []string
	for i, unit := range []string{"term.years", "term.months", "term.weeks", "term.days"} {
		if m[i+1] != "" {
			w := v.T(unit, m[i+1])
			if v.Lang == EN && m[i+1] == "1" {
				w = strings.TrimSuffix(w, "s") // "1 year", not "1 years"
			}
			parts = append(parts, w)
		}
	}
	sep := ""
	if v.Lang == EN {
		sep = " "
	}
	return strings.Join(parts, sep)
}

// Short is the start of a long hex id, for tables; the full id is in the
// element's title and in the link.
func Short(s string) string {
	if len(s) <= 16 {
		return s
	}
	return s[:16] + "…"
}

// Short is the package function, for templates.
func (v *View) Short(s string) string { return Short(s) }

// JSMessages are the messages the verification scripts show (keys "js."
// without the prefix, and the category names), in the page's language;
// pages embed them as JSON.
func (v *View) JSMessages() map[string]string {
	out := map[string]string{}
	for k := range messages {
		if name, ok := strings.CutPrefix(k, "js."); ok {
			out[name] = v.T(k)
		} else if strings.HasPrefix(k, "category.") || k == "time.zone" {
			out[k] = v.T(k)
		}
	}
	return out
}

// Text picks the page's language from a text written in both, one
// language per line (as the built-in policies' descriptions are): the
// lines with Chinese characters, or those without. A text in one
// language only is shown whole.
func (v *View) Text(s string) string {
	var zh, en []string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if hasHan(line) {
			zh = append(zh, line)
		} else {
			en = append(en, line)
		}
	}
	pick := zh
	if v.Lang == EN {
		pick = en
	}
	if len(zh) == 0 || len(en) == 0 {
		return s
	}
	return strings.Join(pick, "\n")
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
