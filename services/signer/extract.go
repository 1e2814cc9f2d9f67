package signer

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

var disableConfigDir sync.Once

// ExtractJWS returns the compact JWS a certificate PDF carries as its
// embedded file certificate.jws. It reads any well-formed PDF (also one
// re-saved by another program), not only the ones RenderPDF writes.
func ExtractJWS(pdf []byte) (string, error) {
	// pdfcpu would otherwise create a configuration directory in $HOME.
	disableConfigDir.Do(api.DisableConfigDir)
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	atts, err := api.ExtractAttachmentsRaw(bytes.NewReader(pdf), "", nil, conf)
	if err != nil {
		return "", fmt.Errorf("reading the PDF's attachments: %w", err)
	}
	for _, a := range atts {
		if a.FileName != AttachmentName {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(a.Reader, 16<<20))
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", AttachmentName, err)
		}
		return string(bytes.TrimSpace(data)), nil
	}
	names := make([]string, len(atts))
	for i, a := range atts {
		names[i] = a.FileName
	}
	return "", fmt.Errorf("the PDF has no attachment named %s (it has %q)", AttachmentName, names)
}
