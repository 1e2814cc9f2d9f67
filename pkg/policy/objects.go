package policy

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// CEL object types seen by policies. They are declared by hand rather than
// through cel-go's native Go types because native types read an unset field
// as its zero value: record.end of an indefinite record would silently be
// 1970-01-01 and `now >= record.end` true. Here reading an absent field is an
// evaluation error, and has() tells absent from present.
const (
	recordTypeName      = "creditchain.Record"
	attestationTypeName = "creditchain.Attestation"
	repairTypeName      = "creditchain.Repair"
)

// objectType is the declaration of one object type: its fields and their
// CEL types. It is registered with the CEL type registry as a struct type.
type objectType struct {
	name    string
	label   string // how error messages name a value of this type
	celType *types.Type
	fields  map[string]*types.FieldType
	names   []string       // sorted
	index   map[string]int // position of each field in object.vals
}

func newObjectType(name, label string, fieldTypes map[string]*types.Type) *objectType {
	t := &objectType{
		name:    name,
		label:   label,
		celType: types.NewObjectType(name, traits.FieldTesterType, traits.IndexerType),
		fields:  make(map[string]*types.FieldType, len(fieldTypes)),
	}
	for fieldName, ft := range fieldTypes {
		t.names = append(t.names, fieldName)
		t.fields[fieldName] = &types.FieldType{
			Type:    ft,
			IsSet:   t.isSetFunc(fieldName),
			GetFrom: t.getFromFunc(fieldName),
		}
	}
	sort.Strings(t.names)
	t.index = make(map[string]int, len(t.names))
	for i, n := range t.names {
		t.index[n] = i
	}
	return t
}

// newObject returns a value of t with every field absent.
func (t *objectType) newObject() *object {
	return &object{typ: t, vals: make([]ref.Val, len(t.names))}
}

var (
	attestationType = newObjectType(attestationTypeName, "attestation", map[string]*types.Type{
		"kind": types.StringType,
		"at":   types.TimestampType,
	})
	repairType = newObjectType(repairTypeName, "record.repair", map[string]*types.Type{
		"status":     types.StringType,
		"decided_at": types.TimestampType,
	})
	recordType = newObjectType(recordTypeName, "record", map[string]*types.Type{
		"id":           types.StringType,
		"category":     types.StringType,
		"authority":    types.StringType,
		"start":        types.TimestampType,
		"term":         types.DurationType,
		"end":          types.TimestampType,
		"measures":     types.NewListType(types.StringType),
		"status":       types.StringType,
		"attestations": types.NewListType(attestationType.celType),
		"repair":       repairType.celType,
	})
)

// absentHints explains, for fields that may be absent, why and how to test.
var absentHints = map[string]string{
	"record.term":              "the record has no fixed term; test has(record.term)",
	"record.end":               "the record has no fixed term; test has(record.end)",
	"record.repair.decided_at": "no repair decision yet; test has(record.repair.decided_at)",
}

func (t *objectType) isSetFunc(field string) ref.FieldTester {
	return func(target any) bool {
		o, ok := target.(*object)
		if !ok {
			return false
		}
		return o.lookup(field) != nil
	}
}

func (t *objectType) getFromFunc(field string) ref.FieldGetter {
	return func(target any) (any, error) {
		o, ok := target.(*object)
		if !ok {
			return nil, fmt.Errorf("%s.%s: unexpected value %T", t.label, field, target)
		}
		return o.get(field)
	}
}

// HasTrait implements ref.Type.
func (t *objectType) HasTrait(trait int) bool {
	return trait == traits.FieldTesterType || trait == traits.IndexerType
}

// TypeName implements ref.Type.
func (t *objectType) TypeName() string { return t.name }

// ReflectType implements types.StructTypeDescriptor: values are built by this
// package, never adapted from Go structs.
func (t *objectType) ReflectType() reflect.Type { return nil }

// FieldNames implements types.StructTypeDescriptor.
func (t *objectType) FieldNames() []string { return append([]string(nil), t.names...) }

// FindFieldType implements types.StructTypeDescriptor.
func (t *objectType) FindFieldType(name string) (*types.FieldType, bool) {
	ft, ok := t.fields[name]
	return ft, ok
}

// NewValue implements types.StructTypeDescriptor. Policies read records;
// they do not make them.
func (t *objectType) NewValue(types.Adapter, map[string]ref.Val) ref.Val {
	return types.NewErr("%s values cannot be constructed in a policy", t.name)
}

// Adapt implements types.StructTypeDescriptor.
func (t *objectType) Adapt(_ types.Adapter, value any) ref.Val {
	if o, ok := value.(*object); ok && o.typ == t {
		return o
	}
	return types.NewErr("cannot adapt %T to %s", value, t.name)
}

// object is a value of an objectType; an absent field is a nil entry.
type object struct {
	typ  *objectType
	vals []ref.Val
}

// set stores a field; field names are this package's constants.
func (o *object) set(field string, v ref.Val) *object {
	i, ok := o.typ.index[field]
	if !ok {
		panic("policy: " + o.typ.name + " has no field " + field)
	}
	o.vals[i] = v
	return o
}

// lookup returns the field's value, nil when absent or undeclared.
func (o *object) lookup(field string) ref.Val {
	if i, ok := o.typ.index[field]; ok {
		return o.vals[i]
	}
	return nil
}

func (o *object) get(field string) (ref.Val, error) {
	if v := o.lookup(field); v != nil {
		return v, nil
	}
	if _, declared := o.typ.fields[field]; !declared {
		return nil, fmt.Errorf("%s has no field %q", o.typ.label, field)
	}
	path := o.typ.label + "." + field
	if hint, ok := absentHints[path]; ok {
		return nil, fmt.Errorf("%s is absent: %s", path, hint)
	}
	return nil, fmt.Errorf("%s is absent", path)
}

// ConvertToNative implements ref.Val.
func (o *object) ConvertToNative(typeDesc reflect.Type) (any, error) {
	return nil, fmt.Errorf("%s cannot be converted to %v", o.typ.name, typeDesc)
}

// ConvertToType implements ref.Val.
func (o *object) ConvertToType(typeVal ref.Type) ref.Val {
	switch typeVal {
	case types.TypeType:
		return o.typ.celType
	}
	if typeVal.TypeName() == o.typ.name {
		return o
	}
	return types.NewErr("type conversion error from '%s' to '%s'", o.typ.name, typeVal.TypeName())
}

// Equal implements ref.Val: two objects are equal when they are the same
// type and every field is present in both and equal.
func (o *object) Equal(other ref.Val) ref.Val {
	p, ok := other.(*object)
	if !ok || p.typ != o.typ {
		return types.False
	}
	for i, v := range o.vals {
		w := p.vals[i]
		switch {
		case v == nil && w == nil:
		case v == nil || w == nil || v.Equal(w) != types.True:
			return types.False
		}
	}
	return types.True
}

// Type implements ref.Val.
func (o *object) Type() ref.Type { return o.typ.celType }

// Value implements ref.Val; field getters receive the object itself.
func (o *object) Value() any { return o }

// Get implements traits.Indexer for dynamic field access.
func (o *object) Get(index ref.Val) ref.Val {
	name, ok := index.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(index)
	}
	v, err := o.get(string(name))
	if err != nil {
		return types.WrapErr(err)
	}
	return v
}

// IsSet implements traits.FieldTester for dynamic presence tests.
func (o *object) IsSet(field ref.Val) ref.Val {
	name, ok := field.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(field)
	}
	if _, declared := o.typ.fields[string(name)]; !declared {
		return types.NewErr("%s has no field %q", o.typ.label, string(name))
	}
	return types.Bool(o.lookup(string(name)) != nil)
}
