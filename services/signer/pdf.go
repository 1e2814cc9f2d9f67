package signer

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/creditchain/creditchain/pkg/cert"
	"github.com/creditchain/creditchain/pkg/txn"
)

// AttachmentName is the name of the JWS embedded in every certificate PDF
// (DESIGN 9.7); `creditchain cert verify` looks for it.
const AttachmentName = "certificate.jws"

// PDFInput is what a certificate's PDF shows.
type PDFInput struct {
	Cert      *cert.Certificate
	PortalURL string            // the QR code leads to <portal>/verify?cert=<cert_no>
	Names     map[string]string // institution id -> name, for the authority and issuer
	Font      []byte            // a TrueType CJK font (LoadFont)
}

// VerifyURL is the portal page that verifies certificate certNo.
func VerifyURL(portal, certNo string) string {
	return strings.TrimRight(portal, "/") + "/verify?cert=" + url.QueryEscape(certNo)
}

var categoryNames = map[string]string{
	"court-defaulter":    "失信被执行人",
	"serious-dishonesty": "严重失信主体",
	"general-dishonesty": "一般失信行为",
	"minor-dishonesty":   "轻微失信行为",
}

// RenderPDF renders the certificate as a one-page A4 PDF in Chinese: the
// title, the certificate number, the facts, a QR code to the portal's
// verify page, and the compact JWS attached as certificate.jws, which is
// what a verifier checks (the printed page is a rendering of it).
func RenderPDF(in PDFInput) ([]byte, error) {
	c := in.Cert
	if c == nil || c.Credential == nil {
		return nil, fmt.Errorf("signer: pdf: no certificate")
	}
	if len(in.Font) == 0 {
		return nil, fmt.Errorf("signer: pdf: no CJK font")
	}
	cs := c.Credential.CredentialSubject
	exitTime, err := txn.ParseTime(cs.Exit.Time)
	if err != nil {
		return nil, fmt.Errorf("signer: pdf: %w", err)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(exitTime)
	pdf.SetModificationDate(exitTime)
	pdf.SetTitle(cert.Title+" "+c.CertNo, true)
	pdf.SetCreator("creditchain signer", true)
	pdf.AddUTF8FontFromBytes("cjk", "", in.Font)
	pdf.SetAutoPageBreak(false, 10)
	pdf.SetAttachments([]fpdf.Attachment{{Content: []byte(c.JWS), Filename: AttachmentName,
		Description: "W3C 可验证凭证（compact JWS），可离线核验 / Verifiable Credential (compact JWS)"}})
	pdf.AddPage()

	pdf.SetFont("cjk", "", 24)
	pdf.SetXY(15, 22)
	pdf.CellFormat(180, 14, cert.Title, "", 1, "C", false, 0, "")
	pdf.SetFont("cjk", "", 11)
	pdf.CellFormat(180, 8, "证明编号："+c.CertNo, "", 1, "C", false, 0, "")
	pdf.Ln(4)
	pdf.SetLineWidth(0.3)
	pdf.Line(15, pdf.GetY(), 195, pdf.GetY())
	pdf.Ln(4)

	subjectKind := "单位"
	codeLabel := "统一社会信用代码"
	if cs.Subject.Kind == txn.SubjectPerson {
		subjectKind, codeLabel = "自然人", "身份证号码"
	}
	term := "无固定期限"
	if cs.Record.Term != "" {
		term = describeTerm(cs.Record.Term)
	}
	start, _ := txn.ParseTime(cs.Record.Start)
	hdr := cs.Ledger.Block.Header
	rows := [][2]string{
		{"主体名称", cs.Subject.Name},
		{"主体类型", subjectKind},
		{codeLabel, cs.Subject.Code},
		{"失信类别", nameOr(categoryNames, cs.Record.Category)},
		{"认定机构", withID(in.Names, cs.Record.Authority)},
		{"决定文书号", cs.Record.DocumentNo},
		{"惩戒起始日期", chinaDate(start)},
		{"惩戒期限", term},
		{"退出时间", chinaDateTime(exitTime)},
		{"退出原因", cs.Exit.Reason},
		{"记录编号", cs.Record.RecordID},
		{"退出交易", cs.Ledger.Inclusion.TxID},
		{"区块高度", fmt.Sprintf("%d（%s，账本第 %d 条交易，共 %d 条）", hdr.Height, hdr.Chain, cs.Ledger.Inclusion.LeafIndex+1, hdr.LogSize)},
		{"区块哈希", cs.Ledger.Block.Hash},
		{"签发机构", withID(in.Names, strings.TrimPrefix(c.Credential.Issuer, "urn:creditchain:member:"))},
		{"签发日期", chinaDate(exitTime)},
	}
	for _, r := range rows {
		y := pdf.GetY()
		pdf.SetFont("cjk", "", 10.5)
		pdf.SetXY(15, y)
		pdf.CellFormat(34, 7, r[0], "", 0, "L", false, 0, "")
		size := 10.5
		if len(r[1]) > 60 && !hasCJK(r[1]) {
			size = 8.5 // hashes and ids: one line where possible
		}
		pdf.SetFont("cjk", "", size)
		pdf.SetXY(49, y)
		pdf.MultiCell(146, 7, r[1], "", "L", false)
	}

	pdf.Ln(5)
	pdf.SetFont("cjk", "", 11)
	pdf.SetX(15)
	pdf.MultiCell(180, 7, fmt.Sprintf("兹证明：上述主体的失信惩戒记录已于%s依规退出。退出交易已记入失信联合惩戒联盟链，"+
		"所在区块经 %d 个记账节点联署确认。", chinaDate(exitTime), len(cs.Ledger.Block.Cosignatures)), "", "L", false)

	verify := VerifyURL(in.PortalURL, c.CertNo)
	if err := drawQR(pdf, verify, 15, 205, 42); err != nil {
		return nil, err
	}
	pdf.SetFont("cjk", "", 10)
	pdf.SetXY(62, 207)
	pdf.MultiCell(133, 6, "扫描二维码，在门户核验本证明的真实性与当前状态（是否已撤销）。", "", "L", false)
	pdf.SetFont("cjk", "", 8.5)
	pdf.SetX(62)
	pdf.MultiCell(133, 5, verify, "", "L", false)
	pdf.SetFont("cjk", "", 9)
	pdf.SetX(62)
	pdf.MultiCell(133, 5.5, "本证明的电子版为本文件所附的 "+AttachmentName+"（W3C 可验证凭证，JWS 电子签名）。"+
		"其中载有退出交易、默克尔包含证明和区块联署，可凭信任包离线核验：creditchain cert verify 本文件.pdf --trust trust.json", "", "L", false)

	pdf.SetFont("cjk", "", 8)
	pdf.SetXY(15, 280)
	pdf.CellFormat(180, 5, "签名密钥 "+hdrKid(c.JWS)+" · 证明哈希 "+c.Hash, "", 0, "C", false, 0, "")
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("signer: pdf: %w", err)
	}
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, fmt.Errorf("signer: pdf: %w", err)
	}
	return out.Bytes(), nil
}

// drawQR draws the QR code of text as vector squares, size mm wide.
func drawQR(pdf *fpdf.Fpdf, text string, x, y, size float64) error {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("signer: pdf: QR code: %w", err)
	}
	bm := q.Bitmap() // includes the quiet zone
	cell := size / float64(len(bm))
	pdf.SetFillColor(0, 0, 0)
	for r, row := range bm {
		for col, dark := range row {
			if dark {
				// A hair of overlap keeps viewers from showing seams.
				pdf.Rect(x+float64(col)*cell, y+float64(r)*cell, cell+0.02, cell+0.02, "F")
			}
		}
	}
	return nil
}

func nameOr(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v + "（" + k + "）"
	}
	return k
}

func withID(names map[string]string, id string) string {
	if n := names[id]; n != "" {
		return n + "（" + id + "）"
	}
	return id
}

func hasCJK(s string) bool {
	for _, r := range s {
		if r >= 0x2E80 {
			return true
		}
	}
	return false
}

var chinaTime = time.FixedZone("UTC+8", 8*3600)

func chinaDate(t time.Time) string { return t.In(chinaTime).Format("2006年1月2日") }

func chinaDateTime(t time.Time) string {
	return t.In(chinaTime).Format("2006年1月2日 15:04:05") + "（北京时间）"
}

// describeTerm writes an ISO 8601 duration such as P2Y or P1Y6M in Chinese.
func describeTerm(iso string) string {
	if !strings.HasPrefix(iso, "P") || strings.Contains(iso, "T") {
		return iso
	}
	out, num := "", ""
	units := map[rune]string{'Y': "年", 'M': "个月", 'W': "周", 'D': "日"}
	for _, r := range iso[1:] {
		if r >= '0' && r <= '9' {
			num += string(r)
			continue
		}
		u, ok := units[r]
		if !ok || num == "" {
			return iso
		}
		out += num + u
		num = ""
	}
	if out == "" || num != "" {
		return iso
	}
	return out + "（" + iso + "）"
}

func hdrKid(jws string) string {
	if h, _, err := cert.Parse(jws); err == nil {
		return h.Kid
	}
	return ""
}
