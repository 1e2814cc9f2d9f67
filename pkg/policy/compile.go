package policy

import (
	"fmt"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
)

// Compiled is a type-checked policy ready to evaluate. It is immutable and
// safe for concurrent use.
type Compiled struct {
	policy     Policy
	purgeAfter Duration
	eligible   cel.Program
	due        cel.Program
}

// Compile validates p and type-checks its expressions: eligible must be a
// bool, due a timestamp, and the worst-case cost of each (over records within
// MaxAttestations, MaxMeasures and MaxStringBytes) at most MaxCost. Errors
// name the policy, the expression and the reason.
func Compile(p *Policy) (*Compiled, error) {
	if p == nil {
		return nil, fmt.Errorf("policy: nil policy")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	env, err := environment()
	if err != nil {
		return nil, err
	}
	c := &Compiled{policy: *p, purgeAfter: MustParseDuration(p.PurgeAfter)}
	if c.eligible, err = compileExpr(env, p.Eligible, cel.BoolType, defaultLimits); err != nil {
		return nil, fmt.Errorf("policy %s v%d: eligible: %w", p.ID, p.Version, err)
	}
	if c.due, err = compileExpr(env, p.Due, cel.TimestampType, defaultLimits); err != nil {
		return nil, fmt.Errorf("policy %s v%d: due: %w", p.ID, p.Version, err)
	}
	return c, nil
}

// costLimits separates the static bound from the run-time one so tests can
// exercise the run-time limit on its own.
type costLimits struct{ static, runtime uint64 }

var defaultLimits = costLimits{static: MaxCost, runtime: MaxCost}

func compileExpr(env *cel.Env, src string, want *cel.Type, limits costLimits) (cel.Program, error) {
	if len(src) > MaxExpressionBytes {
		return nil, fmt.Errorf("expression is %d bytes, more than %d", len(src), MaxExpressionBytes)
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, iss.Err()
	}
	if got := ast.OutputType(); !got.IsExactType(want) {
		return nil, fmt.Errorf("must be of type %s, is %s", cel.FormatCELType(want), cel.FormatCELType(got))
	}
	est, err := env.EstimateCost(ast, costEstimator{})
	if err != nil {
		return nil, fmt.Errorf("estimating cost: %w", err)
	}
	if est.Max > limits.static {
		return nil, fmt.Errorf("worst-case cost %d exceeds the limit %d (iterate less, or not nested)", est.Max, limits.static)
	}
	prg, err := env.Program(ast,
		cel.CostLimit(limits.runtime),
		cel.CostTrackerOptions(interpreter.OverloadCostTracker("earliest_list_timestamp", listCost)),
		cel.EvalOptions(cel.OptOptimize),
	)
	if err != nil {
		return nil, fmt.Errorf("planning: %w", err)
	}
	return prg, nil
}

// Policy returns a copy of the policy c was compiled from.
func (c *Compiled) Policy() Policy { return c.policy }

// PurgeAfter is how long after exit the record's off-chain personal data is
// kept before record.purge.
func (c *Compiled) PurgeAfter() Duration { return c.purgeAfter }

// Evaluate runs the policy for r at now, the block time. Errors (an invalid
// record, a failing or too costly expression) are returned, never panics.
func (c *Compiled) Evaluate(r *Record, now time.Time) (d Decision, err error) {
	defer func() {
		if p := recover(); p != nil {
			d, err = Decision{}, fmt.Errorf("policy %s v%d: evaluation panicked: %v", c.policy.ID, c.policy.Version, p)
		}
	}()
	if err := checkTime("now", now); err != nil {
		return Decision{}, fmt.Errorf("policy %s v%d: %w", c.policy.ID, c.policy.Version, err)
	}
	rec, err := recordValue(r)
	if err != nil {
		return Decision{}, fmt.Errorf("policy %s v%d: %w", c.policy.ID, c.policy.Version, err)
	}
	now = now.UTC()
	act := &activation{now: types.Timestamp{Time: now}, record: rec}

	eligible, err := eval(c.eligible, act)
	if err != nil {
		return Decision{}, fmt.Errorf("policy %s v%d: eligible: %w", c.policy.ID, c.policy.Version, err)
	}
	due, err := eval(c.due, act)
	if err != nil {
		return Decision{}, fmt.Errorf("policy %s v%d: due: %w", c.policy.ID, c.policy.Version, err)
	}
	d.Eligible = eligible.(types.Bool) == types.True
	if t := due.(types.Timestamp).Time.UTC(); t.Before(never) {
		d.Due = t
	}
	// An eligible record is due now at the latest, whatever the expression
	// says, so a scheduler never postpones an exit that is already allowed.
	if d.Eligible && (d.Due.IsZero() || d.Due.After(now)) {
		d.Due = now
	}
	return d, nil
}

func eval(prg cel.Program, act *activation) (ref.Val, error) {
	out, _, err := prg.Eval(act)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// activation binds the two variables without building a map per evaluation.
type activation struct {
	now    ref.Val
	record ref.Val
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "now":
		return a.now, true
	case "record":
		return a.record, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }
