package portal

// The pages' data. The query service fills these from the replica; they
// hold only what a page shows, persons already masked.

// IndexPage is the search page, with the error of a refused form.
type IndexPage struct {
	// SearchError and RequestError are message keys; SearchDetail is the
	// validator's reason (in English, as the API gives it).
	SearchError, SearchDetail string
	RequestError              string
}

// Subject is a record's subject as shown: persons masked.
type Subject struct {
	Kind, Code, Name string
	// Commitment is a person's commitment on the ledger.
	Commitment string
}

// RecordRow is a record as listed and as the head of its page.
type RecordRow struct {
	RecordID                   string
	Subject                    Subject
	Category                   string
	Authority, AuthorityName   string
	DocumentNo, DecidedAt, Law string
	Start, Term                string
	Measures                   []string
	Status                     string
}

// SubjectPage is /subjects/{code}, and the answer to a person's search.
type SubjectPage struct {
	// Code is as the look-up echoes it: masked for citizen IDs.
	Code, Kind, Status string
	// Name is the subject's name when a record shows it (masked for
	// persons).
	Name    string
	Records []RecordRow
}

// HistoryRow is one transaction of a record.
type HistoryRow struct {
	TxID, Type string
	Height     uint64
	Time       string
}

// ExitInfo is how a record left the list.
type ExitInfo struct {
	TxID   string
	Height uint64
	Reason string
}

// CertificateLinks point at a certificate's pages and documents.
type CertificateLinks struct {
	CertNo  string
	JSONURL string // GET /v1/certificates/{cert_no}
	PDFURL  string
}

// RecordPage is /records/{record_id}.
type RecordPage struct {
	Record        RecordRow
	PolicyID      string
	PolicyVersion int
	History       []HistoryRow
	Exit          *ExitInfo
	Certificate   *CertificateLinks
	// Script is what the verification script needs, embedded as JSON:
	// the record id, its inclusion proof and the height of the block
	// whose log root the proof leads to.
	Script any
}

// VerifyPage is /verify; CertNo is set when opened from a QR code.
type VerifyPage struct {
	CertNo string
}

// CertificatePage answers a self-service request.
type CertificatePage struct {
	CertificateLinks
}

// BlockRow is a block in the ledger page.
type BlockRow struct {
	Height                 uint64
	Hash, Time             string
	Proposer, ProposerName string
	TxCount, Cosignatures  int
	LogSize                uint64
	LogRoot                string
}

// MemberRow is a member of the current epoch.
type MemberRow struct {
	ID, Name, Kind string
	Roles          []string
	Categories     []string
}

// PolicyRow is a policy's active version.
type PolicyRow struct {
	ID          string
	Version     int
	PurgeAfter  string
	Description string
}

// LedgerPage is /ledger.
type LedgerPage struct {
	ChainID, Suite, Quorum, GenesisHash string
	Epoch                               uint64
	Head                                BlockRow
	Blocks                              []BlockRow
	Members                             []MemberRow
	Policies                            []PolicyRow
}

// ErrorPage is a refusal or failure: Title and Hint are message keys,
// Message the API's own explanation.
type ErrorPage struct {
	Title, Hint string
	Code        string
	Message     string
}
