package query

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/cert"
	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/services/query/portal"
	"github.com/go-chi/chi/v5"
)

// portalRoutes are the portal's pages (DESIGN 9.7 "Portal paths"). They
// read through the same functions as the API, under the same limits and
// the same access log: a page that shows a subject is a look-up.
func (s *Server) portalRoutes(r chi.Router) {
	r.Get("/", s.pageIndex)
	r.Post("/", s.pageSearch)
	r.Get("/subjects/{code}", s.limitedPage(s.pageSubject))
	r.Get("/records/{record_id}", s.limitedPage(s.pageRecord))
	r.Get("/verify", s.pageVerify)
	r.Get("/ledger", s.pageLedger)
	r.Handle("/static/*", portal.Static())
}

// render writes a page; a template failure is a bug, logged and answered
// as a plain 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, v *portal.View) {
	if err := s.portal.Render(w, v); err != nil {
		s.log.Error("portal render", "page", v.Page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// renderError shows a refusal (or a replica failure) as a page with the
// API's status and explanation.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, e *apierr.Error) {
	title, hint := "error.generic", ""
	switch e.Code {
	case "not_found":
		title, hint = "error.not_found", "hint.not_found"
	case "invalid_code":
		title = "error.invalid_code"
	case "malformed", "too_large":
		title = "error.malformed"
	case "rate_limited", "quota_exceeded":
		title, hint = "error."+e.Code, "hint.rate_limited"
	case "unavailable":
		title, hint = "error.unavailable", "hint.unavailable"
	case "invalid_api_key", "revoked_api_key":
		title = "error.forbidden"
	}
	v := portal.NewView(r, "error", title, portal.ErrorPage{Title: title, Hint: hint, Code: e.Code, Message: e.Message})
	v.Status = e.Status
	s.render(w, r, v)
}

// pageUnavailable is writeUnavailable for pages.
func (s *Server) pageUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("portal unavailable", "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "1")
	s.renderError(w, r, apierr.New(503, "unavailable", "the replica is temporarily unavailable; retry"))
}

// admitPage applies the look-up limits to a page; a refusal is rendered
// and nil returned.
func (s *Server) admitPage(w http.ResponseWriter, r *http.Request) *http.Request {
	c, aerr, wait := s.admit(r)
	if aerr == nil {
		return r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
	}
	switch aerr.Status {
	case http.StatusServiceUnavailable:
		s.pageUnavailable(w, r, aerr)
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		s.renderError(w, r, aerr)
	default:
		s.renderError(w, r, aerr)
	}
	return nil
}

func (s *Server) limitedPage(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r = s.admitPage(w, r); r != nil {
			next(w, r)
		}
	}
}

func (s *Server) pageIndex(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, portal.NewView(r, "index", "title.index", portal.IndexPage{}))
}

// maxFormBody bounds the portal's forms: a code and a case number.
const maxFormBody = 8 << 10

// pageSearch answers the search page's forms. An organization's code is
// redirected to its subject page; a citizen ID is answered right here, so
// that the ID number never appears in a URL (browser history, server and
// proxy logs). The self-service certificate form is answered here too.
func (s *Server) pageSearch(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, apierr.Malformed("the form could not be read: %v", err))
		return
	}
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if r.PostForm.Get("form") == "certificate" {
		s.pageRequest(w, r, code, strings.TrimSpace(r.PostForm.Get("document_no")))
		return
	}
	kinds, err := s.classify(code)
	if err != nil {
		v := portal.NewView(r, "index", "title.index", portal.IndexPage{SearchError: "search.invalid", SearchDetail: err.Error()})
		v.Status = http.StatusBadRequest
		s.render(w, r, v)
		return
	}
	person := false
	for _, k := range kinds {
		person = person || k == ids.Person
	}
	if !person {
		// Only a code that cannot be anyone's ID number goes into a URL.
		http.Redirect(w, r, withLang(r, "/subjects/"+url.PathEscape(code)), http.StatusSeeOther)
		return
	}
	if r = s.admitPage(w, r); r == nil {
		return
	}
	s.showSubject(w, r, code, "POST /")
}

func (s *Server) pageSubject(w http.ResponseWriter, r *http.Request) {
	code, err := url.PathUnescape(chi.URLParam(r, "code"))
	if err != nil {
		s.renderError(w, r, apierr.New(400, "invalid_code", "the code is not a valid path segment"))
		return
	}
	s.showSubject(w, r, code, "GET /subjects/{code}")
}

func (s *Server) showSubject(w http.ResponseWriter, r *http.Request, code, endpoint string) {
	ctx := r.Context()
	ans, aerr, err := s.lookupCode(ctx, code, endpoint)
	switch {
	case err != nil:
		s.pageUnavailable(w, r, err)
		return
	case aerr != nil:
		s.renderError(w, r, aerr)
		return
	}
	names, err := s.memberNames(ctx)
	if err != nil {
		s.pageUnavailable(w, r, err)
		return
	}
	page := portal.SubjectPage{Code: ans.Code, Kind: ans.Kind, Status: ans.Status}
	for _, rec := range ans.Records {
		row := recordRow(&rec, names)
		if page.Name == "" && rec.Subject.Kind == ans.Kind {
			page.Name = rec.Subject.Name
		}
		page.Records = append(page.Records, row)
	}
	s.render(w, r, portal.NewView(r, "subject", "title.subject", page))
}

func (s *Server) pageRecord(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	doc, aerr, err := s.recordDocument(ctx, chi.URLParam(r, "record_id"), "GET /records/{record_id}")
	switch {
	case err != nil:
		s.pageUnavailable(w, r, err)
		return
	case aerr != nil:
		s.renderError(w, r, aerr)
		return
	}
	names, err := s.memberNames(ctx)
	if err != nil {
		s.pageUnavailable(w, r, err)
		return
	}
	page := portal.RecordPage{Record: recordRow(&doc.RecordSummary, names),
		PolicyID: doc.Policy.ID, PolicyVersion: doc.Policy.Version}
	created := uint64(0)
	for _, h := range doc.History {
		page.History = append(page.History, portal.HistoryRow{TxID: h.TxID, Type: h.Type, Height: h.Height, Time: h.Time})
		if h.TxID == doc.RecordID {
			created = h.Height
		}
	}
	if doc.Exit != nil {
		page.Exit = &portal.ExitInfo{TxID: doc.Exit.TxID, Height: doc.Exit.Height, Reason: doc.Exit.Reason}
	}
	if c := doc.Certificate; c != nil {
		page.Certificate = &portal.CertificateLinks{CertNo: c.CertNo, JSONURL: c.URL, PDFURL: c.URL + ".pdf"}
	}
	page.Script = map[string]any{"record_id": doc.RecordID, "proof": doc.Proof, "anchor": doc.Anchor, "created": created}
	s.render(w, r, portal.NewView(r, "record", "title.record", page))
}

func (s *Server) pageVerify(w http.ResponseWriter, r *http.Request) {
	no := r.URL.Query().Get("cert")
	if !cert.ValidCertNo(no) {
		no = "" // not a number: nothing to look up
	}
	s.render(w, r, portal.NewView(r, "verify", "title.verify", portal.VerifyPage{CertNo: no}))
}

// pageRequest answers the self-service certificate form, under the
// look-up limits like the API's request.
func (s *Server) pageRequest(w http.ResponseWriter, r *http.Request, code, docNo string) {
	if r = s.admitPage(w, r); r == nil {
		return
	}
	ans, aerr, err := s.requestCertificate(r.Context(), code, docNo, "POST / (certificate)")
	switch {
	case err != nil:
		s.pageUnavailable(w, r, err)
	case aerr != nil:
		v := portal.NewView(r, "index", "title.index", portal.IndexPage{RequestError: "request.not_found"})
		v.Status = aerr.Status
		s.render(w, r, v)
	default:
		links := portal.CertificateLinks{CertNo: ans.CertNo, JSONURL: "/v1/certificates/" + url.PathEscape(ans.CertNo), PDFURL: ans.PDFURL}
		s.render(w, r, portal.NewView(r, "certificate", "title.certificate", portal.CertificatePage{CertificateLinks: links}))
	}
}

// withLang keeps the request's language on a redirect.
func withLang(r *http.Request, path string) string {
	if portal.Lang(r) == portal.EN {
		return path + "?lang=en"
	}
	return path
}

// recordRow is a record summary as the pages show it.
func recordRow(rec *RecordSummary, names map[string]string) portal.RecordRow {
	return portal.RecordRow{
		RecordID: rec.RecordID,
		Subject:  portal.Subject{Kind: rec.Subject.Kind, Code: rec.Subject.Code, Name: rec.Subject.Name, Commitment: rec.Subject.Commitment},
		Category: rec.Category, Authority: rec.Authority, AuthorityName: names[rec.Authority],
		DocumentNo: rec.Basis.DocumentNo, DecidedAt: rec.Basis.DecidedAt, Law: rec.Basis.Law,
		Start: rec.Start, Term: rec.Term, Measures: rec.Measures, Status: rec.Status,
	}
}

// memberNames maps every institution id of every epoch to its name.
func (s *Server) memberNames(ctx context.Context) (map[string]string, error) {
	epochs, err := s.store.Epochs(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range epochs {
		for _, m := range e.Members {
			out[m.ID] = m.Name
		}
	}
	if len(out) == 0 && s.store.Genesis != nil {
		for _, m := range s.store.Genesis.Members {
			out[m.ID] = m.Name
		}
	}
	return out, nil
}
