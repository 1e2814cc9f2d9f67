package policy

import (
	"fmt"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
)

// Limits on what a policy may be. They are part of the policy language:
// changing them changes which policies compile.
const (
	// MaxExpressionBytes bounds the source of each expression.
	MaxExpressionBytes = 8192
	// MaxCost bounds both the static worst-case cost estimate made by Compile
	// and the cost actually spent by one evaluation.
	MaxCost = 1_000_000
	// maxComprehensionNesting allows a comprehension inside another, no more.
	maxComprehensionNesting = 2
	maxParserRecursion      = 100
)

// never is the sentinel a due expression returns when nothing but a new
// event can make the record eligible: the last whole second CEL can represent.
var never = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// Never returns the value of the CEL constant `never`. A due at or after it
// is reported as a zero Decision.Due.
func Never() time.Time { return never }

var environment = sync.OnceValues(newEnvironment)

func newEnvironment() (*cel.Env, error) {
	ts := cel.TimestampType
	env, err := cel.NewEnv(
		cel.Types(attestationType, repairType, recordType),
		cel.Variable("now", ts),
		cel.Variable("record", cel.ObjectType(recordTypeName)),
		cel.Constant("never", ts, types.Timestamp{Time: never}),
		ext.Bindings(),
		cel.Function("add_period",
			cel.Overload("add_period_timestamp_string", []*cel.Type{ts, cel.StringType}, ts,
				cel.BinaryBinding(addPeriod))),
		cel.Function("earliest",
			cel.Overload("earliest_timestamp_timestamp", []*cel.Type{ts, ts}, ts,
				cel.BinaryBinding(earliestOf2)),
			cel.Overload("earliest_list_timestamp", []*cel.Type{cel.ListType(ts)}, ts,
				cel.UnaryBinding(earliestOfList))),
		cel.ParserExpressionSizeLimit(MaxExpressionBytes),
		cel.ParserRecursionLimit(maxParserRecursion),
		cel.ASTValidators(
			cel.ValidateComprehensionNestingLimit(maxComprehensionNesting),
			cel.ValidateDurationLiterals(),
			cel.ValidateTimestampLiterals(),
			cel.ValidateRegexLiterals(),
			cel.ValidateHomogeneousAggregateLiterals(),
			periodLiteralValidator{},
			timeZoneValidator{},
		),
	)
	if err != nil {
		return nil, fmt.Errorf("policy: building the CEL environment: %w", err)
	}
	return env, nil
}

// addPeriod implements add_period(timestamp, string): calendar addition of
// an ISO 8601 duration, as Duration.AddTo.
func addPeriod(lhs, rhs ref.Val) ref.Val {
	t, ok := lhs.(types.Timestamp)
	if !ok {
		return types.MaybeNoSuchOverloadErr(lhs)
	}
	s, ok := rhs.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(rhs)
	}
	d, err := ParseDuration(string(s))
	if err != nil {
		return types.NewErr("add_period: %v", err)
	}
	out := d.AddTo(t.Time.UTC())
	if out.Before(minTime) || out.After(maxTime) {
		return types.NewErr("add_period: %s + %s is outside years 0001-9999",
			t.Time.UTC().Format(time.RFC3339Nano), d)
	}
	return types.Timestamp{Time: out}
}

func earliestOf2(lhs, rhs ref.Val) ref.Val {
	a, ok := lhs.(types.Timestamp)
	if !ok {
		return types.MaybeNoSuchOverloadErr(lhs)
	}
	b, ok := rhs.(types.Timestamp)
	if !ok {
		return types.MaybeNoSuchOverloadErr(rhs)
	}
	if b.Time.Before(a.Time) {
		return b
	}
	return a
}

// earliestOfList returns `never` for an empty list: no candidate time means
// no time at which the condition is known to hold.
func earliestOfList(arg ref.Val) ref.Val {
	list, ok := arg.(traits.Lister)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	best := types.Timestamp{Time: never}
	it := list.Iterator()
	for it.HasNext() == types.True {
		v := it.Next()
		t, ok := v.(types.Timestamp)
		if !ok {
			return types.MaybeNoSuchOverloadErr(v)
		}
		if t.Time.Before(best.Time) {
			best = t
		}
	}
	return best
}
