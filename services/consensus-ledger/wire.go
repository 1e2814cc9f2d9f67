package consensus

import (
	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/chain"
	ccv1 "github.com/creditchain/creditchain/proto/creditchain/v1"
	"google.golang.org/protobuf/proto"
)

func encodeProposal(p *chain.Proposal) ([]byte, error) {
	return proto.Marshal(&ccv1.Proposal{Height: p.Height, Prev: p.Prev, Time: p.Time, View: p.View,
		Proposer: p.Proposer, Candidates: p.Candidates, TxsSeq: p.TxsSeq, Hash: p.Hash})
}

func decodeProposal(data []byte) (*chain.Proposal, error) {
	var m ccv1.Proposal
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return &chain.Proposal{Height: m.Height, Prev: m.Prev, Time: m.Time, View: m.View,
		Proposer: m.Proposer, Candidates: m.Candidates, TxsSeq: m.TxsSeq, Hash: m.Hash}, nil
}

func encodeVote(v *Vote) ([]byte, error) {
	m := &ccv1.Vote{Checkpoint: v.Checkpoint, Refusal: v.Refusal}
	if c := v.Cosignature; c != nil {
		m.Cosignature = &ccv1.Cosignature{Institution: c.Institution, KeyId: c.KeyID, Sig: c.Sig}
	}
	return proto.Marshal(m)
}

func decodeVote(data []byte) (*Vote, error) {
	var m ccv1.Vote
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	v := &Vote{Checkpoint: m.Checkpoint, Refusal: m.Refusal}
	if c := m.Cosignature; c != nil {
		v.Cosignature = &block.Cosignature{Institution: c.Institution, KeyID: c.KeyId, Sig: c.Sig}
	}
	return v, nil
}
