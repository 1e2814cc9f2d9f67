package policy

import (
	"regexp"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
)

// periodLiteralValidator rejects at compile time an add_period whose period
// is a literal that does not parse, instead of failing every evaluation.
type periodLiteralValidator struct{}

func (periodLiteralValidator) Name() string { return "creditchain.validator.add_period" }

func (periodLiteralValidator) Validate(_ *cel.Env, _ cel.ValidatorConfig, a *ast.AST, iss *cel.Issues) {
	for _, call := range ast.MatchDescendants(ast.NavigateAST(a), ast.FunctionMatcher("add_period")) {
		args := call.AsCall().Args()
		if len(args) != 2 || args[1].Kind() != ast.LiteralKind {
			continue
		}
		s, ok := args[1].AsLiteral().Value().(string)
		if !ok {
			continue
		}
		if _, err := ParseDuration(s); err != nil {
			iss.ReportErrorAtID(args[1].ID(), "invalid add_period period: %v", err)
		}
	}
}

// timestampAccessors take an optional time zone argument.
var timestampAccessors = []string{
	"getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate",
	"getDayOfWeek", "getHours", "getMinutes", "getSeconds", "getMilliseconds",
}

// fixedZone is the offset syntax CEL accepts, or UTC.
var fixedZone = regexp.MustCompile(`^(UTC|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`)

// timeZoneValidator only allows fixed UTC offsets as time zones: a zone name
// such as "Asia/Shanghai" is resolved from each node's own tz database, and
// two nodes with different versions could disagree on a block's outcome.
type timeZoneValidator struct{}

func (timeZoneValidator) Name() string { return "creditchain.validator.time_zone" }

func (timeZoneValidator) Validate(_ *cel.Env, _ cel.ValidatorConfig, a *ast.AST, iss *cel.Issues) {
	root := ast.NavigateAST(a)
	for _, name := range timestampAccessors {
		for _, call := range ast.MatchDescendants(root, ast.FunctionMatcher(name)) {
			args := call.AsCall().Args()
			if len(args) == 0 {
				continue
			}
			zone := args[len(args)-1]
			s, ok := literalString(zone)
			if !ok || !fixedZone.MatchString(s) {
				iss.ReportErrorAtID(zone.ID(),
					"%s: the time zone must be a literal fixed offset such as \"+08:00\" (or \"UTC\"), not a zone name", name)
			}
		}
	}
}

func literalString(e ast.Expr) (string, bool) {
	if e.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().Value().(string)
	return s, ok
}
