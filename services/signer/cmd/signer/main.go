// Command signer runs the network's certificate signer (DESIGN 3, 7) on the
// issuing institution's replica: for each committed exit it signs the
// certificate, stores it with its PDF, and anchors it with
// certificate.issue through intake. Every flag falls back to the
// environment variable CREDITCHAIN_<FLAG> (the font also to
// CREDITCHAIN_CJK_FONT).
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/svc"
	"github.com/creditchain/creditchain/services/signer"
)

func main() {
	f := svc.NewFlags("signer")
	db := f.String("database", "", "the issuing institution's replica (PostgreSQL URL)")
	key := f.String("key", "", "the issuer's key file (the trust bundle's issuer key)")
	submitKey := f.String("submit-key", "", "key file that signs certificate.issue (default: --key)")
	intake := f.String("intake", "http://127.0.0.1:8081", "intake base URL")
	portal := f.String("portal", "http://127.0.0.1:8080", "portal base URL for the PDF's QR code")
	font := f.String("cjk-font", "", "TrueType CJK font for the PDF (default: $CREDITCHAIN_CJK_FONT, else searched in /usr/share/fonts)")
	poll := f.String("poll", "1s", "how often to read the replica")
	f.Parse()
	log := svc.Logger("signer")
	if err := run(f, *db, *key, *submitKey, *intake, *portal, *font, *poll); err != nil {
		log.Error("signer stopped", "err", err)
		os.Exit(1)
	}
}

func run(f *svc.Flags, db, key, submitKey, intake, portal, font, poll string) error {
	if db == "" || key == "" {
		return errors.New("--database and --key are required")
	}
	every, err := time.ParseDuration(poll)
	if err != nil {
		return fmt.Errorf("--poll: %w", err)
	}
	kf, err := suite.LoadKeyFile(key)
	if err != nil {
		return err
	}
	sk := kf
	if submitKey != "" {
		if sk, err = suite.LoadKeyFile(submitKey); err != nil {
			return err
		}
	}
	ctx, stop := svc.Context()
	defer stop()
	s, err := signer.Start(ctx, signer.Config{DatabaseURL: db, IssuerKey: kf, SubmitKey: sk, IntakeURL: intake,
		PortalURL: func() string { return portal }, FontPath: font, Poll: every, Logger: svc.Logger("signer")})
	if err != nil {
		return err
	}
	defer s.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Status())
	})
	return svc.Serve(ctx, f.Listen, mux, func() error {
		if !s.Status().Ready {
			return errors.New("the replica has no genesis yet")
		}
		return nil
	})
}
