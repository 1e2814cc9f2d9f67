package intake

import (
	_ "embed"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/creditchain/creditchain/pkg/apierr"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apierr.Error) {
	writeJSON(w, e.Status, apierr.Body{Error: e})
}

// writeDuplicate is the 409 with the existing status beside the error.
func writeDuplicate(w http.ResponseWriter, st TxStatus) {
	writeJSON(w, http.StatusConflict, struct {
		Error *apierr.Error `json:"error"`
		Tx    TxStatus      `json:"tx"`
	}{apierr.New(409, "duplicate", "transaction %s was already submitted", st.TxID), st})
}

// writeUnavailable is for failures of the infrastructure, never of the
// client's input: the client may retry the same transaction safely.
func writeUnavailable(w http.ResponseWriter, err error) {
	slog.Error("intake unavailable", "err", err)
	w.Header().Set("Retry-After", "1")
	writeError(w, apierr.New(503, "unavailable", "the ledger is temporarily unavailable; retry the same transaction"))
}

//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}
