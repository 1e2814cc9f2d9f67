package txn

// Subject kinds.
const (
	SubjectOrganization = "organization"
	SubjectPerson       = "person"
)

// Subject is who a report or record is about (DESIGN 5): an organization by
// its USCC and name in clear, or a person by a salted commitment only.
type Subject struct {
	Kind       string `json:"kind"`
	USCC       string `json:"uscc,omitempty"`
	Name       string `json:"name,omitempty"`
	Commitment string `json:"commitment,omitempty"`
}

// Code is the subject's identifier on the ledger: the USCC of an
// organization, the commitment of a person.
func (s Subject) Code() string {
	if s.Kind == SubjectPerson {
		return s.Commitment
	}
	return s.USCC
}
