package signer

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/cert"
	"github.com/creditchain/creditchain/pkg/cert/certtest"
	"github.com/creditchain/creditchain/pkg/suite"
)

func loadTestFont(t *testing.T) []byte {
	t.Helper()
	path, err := FindFont("")
	if err != nil {
		t.Fatalf("%v (.ci/run installs fonts-wqy-microhei)", err)
	}
	font, err := LoadFont(path)
	if err != nil {
		t.Fatal(err)
	}
	return font
}

func renderFixture(t *testing.T) (*certtest.Fixture, *cert.Certificate, string) {
	t.Helper()
	f := certtest.New(t, suite.Ed25519)
	c := f.Issue(t)
	pdf, err := RenderPDF(PDFInput{Cert: c, PortalURL: "http://127.0.0.1:8080/", Font: loadTestFont(t),
		Names: map[string]string{certtest.CenterID: "厦门市公共信用信息中心"}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cert.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	return f, c, path
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s (.ci/run installs poppler-utils)", name, args, err, out)
	}
	return out
}

// TestPDFRendersInChinese renders page 1 with poppler and checks the image
// has real content, and that the text layer holds the Chinese title and
// the certificate number (so the CJK font was embedded with its mapping).
func TestPDFRendersInChinese(t *testing.T) {
	_, c, path := renderFixture(t)
	prefix := filepath.Join(t.TempDir(), "page")
	run(t, "pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", path, prefix)
	data, err := os.ReadFile(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	// A4 at 40 dpi is about 331 x 468 pixels.
	if b.Dx() < 300 || b.Dy() < 440 || b.Dy() <= b.Dx() {
		t.Fatalf("page 1 is %dx%d", b.Dx(), b.Dy())
	}
	dark, top, qr := 0, 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if luminance(img, x, y) < 128 {
				dark++
				if y < b.Dy()/8 {
					top++ // the title
				}
				if y > b.Dy()*205/297 && y < b.Dy()*247/297 && x < b.Dx()*57/210 {
					qr++ // the QR code's square
				}
			}
		}
	}
	total := b.Dx() * b.Dy()
	if dark < total/100 || dark > total/2 {
		t.Fatalf("%d of %d pixels dark: not a rendered certificate", dark, total)
	}
	if top == 0 || qr < 200 {
		t.Fatalf("title pixels %d, QR pixels %d", top, qr)
	}
	text := string(run(t, "pdftotext", "-f", "1", "-l", "1", path, "-"))
	for _, want := range []string{cert.Title, c.CertNo, "厦门某某有限公司", "(2026)闽02执123号", "obligations performed", "2年（P2Y）"} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q:\n%s", want, text)
		}
	}
}

func luminance(img image.Image, x, y int) uint32 {
	r, g, b, _ := img.At(x, y).RGBA()
	return (299*r + 587*g + 114*b) / 1000 >> 8
}

// TestPDFAttachmentVerifies extracts certificate.jws with poppler's
// pdfdetach and with ExtractJWS, and verifies it.
func TestPDFAttachmentVerifies(t *testing.T) {
	f, c, path := renderFixture(t)
	list := string(run(t, "pdfdetach", "-list", path))
	if !strings.Contains(list, "1 embedded files") || !strings.Contains(list, AttachmentName) {
		t.Fatalf("pdfdetach -list:\n%s", list)
	}
	out := filepath.Join(t.TempDir(), "out.jws")
	run(t, "pdfdetach", "-save", "1", "-o", out, path)
	detached, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(detached) != c.JWS {
		t.Fatal("pdfdetach's certificate.jws is not the JWS")
	}
	pdf, _ := os.ReadFile(path)
	jws, err := ExtractJWS(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if jws != c.JWS {
		t.Fatal("ExtractJWS is not the JWS")
	}
	if res, err := cert.Verify(jws, f.Trust); err != nil || !res.Valid {
		t.Fatalf("attached JWS does not verify: %v", err)
	}
	// A PDF without the attachment is refused with a clear reason.
	if _, err := ExtractJWS([]byte("%PDF-1.4\nnot really")); err == nil {
		t.Fatal("garbage PDF accepted")
	}
}

func TestVerifyURLAndTerm(t *testing.T) {
	if got := VerifyURL("http://127.0.0.1:8080/", "CC-2026-0123456789ABCDEF"); got != "http://127.0.0.1:8080/verify?cert=CC-2026-0123456789ABCDEF" {
		t.Fatalf("VerifyURL = %s", got)
	}
	for in, want := range map[string]string{"P2Y": "2年（P2Y）", "P1Y6M": "1年6个月（P1Y6M）", "P3M": "3个月（P3M）", "PT5H": "PT5H", "P": "P", "P2": "P2"} {
		if got := describeTerm(in); got != want {
			t.Errorf("describeTerm(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFirstFaceOfCollection checks that a face taken out of a TrueType
// collection is a standalone font whose tables all lie inside the file.
func TestFirstFaceOfCollection(t *testing.T) {
	path, err := FindFont("")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	font, err := LoadFont(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, ".ttc") {
		if !bytes.Equal(raw, font) {
			t.Fatal("a .ttf was changed")
		}
		return
	}
	n := int(font[4])<<8 | int(font[5])
	if n < 8 || len(font) >= len(raw) {
		t.Fatalf("%d tables, %d bytes of %d", n, len(font), len(raw))
	}
	for i := range n {
		rec := font[12+16*i:]
		off := int(rec[8])<<24 | int(rec[9])<<16 | int(rec[10])<<8 | int(rec[11])
		ln := int(rec[12])<<24 | int(rec[13])<<16 | int(rec[14])<<8 | int(rec[15])
		if off%4 != 0 || off+ln > len(font) {
			t.Fatalf("table %q at %d+%d outside %d bytes", rec[:4], off, ln, len(font))
		}
	}
	if _, err := firstFace([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\xff\xff")); err == nil {
		t.Fatal("truncated collection accepted")
	}
}
