package policy

import (
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// costEstimator gives the static cost check the sizes the record bounds
// guarantee; without them every list and string would count as unbounded and
// every policy that iterates would be rejected.
type costEstimator struct{}

func (costEstimator) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	path := n.Path()
	if len(path) == 0 || path[0] != "record" {
		return nil
	}
	switch {
	case len(path) == 2 && path[1] == "attestations":
		return &checker.SizeEstimate{Min: 0, Max: MaxAttestations}
	case len(path) == 2 && path[1] == "measures":
		return &checker.SizeEstimate{Min: 0, Max: MaxMeasures}
	case n.Type() != nil && n.Type().IsExactType(types.StringType):
		return &checker.SizeEstimate{Min: 0, Max: MaxStringBytes}
	}
	return nil
}

// objectCompareCost bounds comparing two record objects (or their types):
// every attestation and measure at most once.
const objectCompareCost = 1 + 2*MaxAttestations + MaxMeasures + 16

func (costEstimator) EstimateCallCost(function, overloadID string, target *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
	if (overloadID == "equals" || overloadID == "not_equals") && len(args) == 2 && isObjectOrType(args[0]) {
		return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: objectCompareCost}}
	}
	if overloadID != "earliest_list_timestamp" || len(args) != 1 {
		return nil
	}
	size := args[0].ComputedSize()
	if size == nil {
		return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: MaxAttestations}}
	}
	return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: 1 + size.Max}}
}

// listCost charges earliest(list) one unit per element at run time, matching
// the estimate.
func listCost(args []ref.Val, _ ref.Val) *uint64 {
	cost := uint64(1)
	if len(args) == 1 {
		if l, ok := args[0].(traits.Lister); ok {
			if n, ok := l.Size().(types.Int); ok && n > 0 {
				cost += uint64(n)
			}
		}
	}
	return &cost
}

// isObjectOrType reports whether n is one of the record object types or a
// type value, whose comparison the default estimator cannot bound.
func isObjectOrType(n checker.AstNode) bool {
	t := n.Type()
	if t == nil {
		return false
	}
	switch t.Kind() {
	case types.TypeKind:
		return true
	case types.StructKind:
		switch t.TypeName() {
		case recordTypeName, attestationTypeName, repairTypeName:
			return true
		}
	}
	return false
}
