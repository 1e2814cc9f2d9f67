package importer

import (
	"slices"
	"testing"
)

func TestParseCategory(t *testing.T) {
	cases := map[string]string{
		"失信被执行人": "court-defaulter", "失信被执行人名单": "court-defaulter",
		"严重失信": "serious-dishonesty", "严重失信主体名单": "serious-dishonesty", "严重失信行为": "serious-dishonesty",
		"一般失信": "general-dishonesty", "轻微失信": "minor-dishonesty",
		"court-defaulter": "court-defaulter", " Serious-Dishonesty ": "serious-dishonesty",
		"tax-arrears": "tax-arrears", // an id a later genesis may add; network.json decides
	}
	for in, want := range cases {
		if got, err := ParseCategory(in); err != nil || got != want {
			t.Errorf("ParseCategory(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "失信", "名单", "严重失信 名单", "court defaulter"} {
		if got, err := ParseCategory(in); err == nil {
			t.Errorf("ParseCategory(%q) = %q, want an error", in, got)
		}
	}
}

func TestSplitMeasures(t *testing.T) {
	got := splitMeasures("限制高消费；限制出境;high_consumption_ban、travel_ban, 限制高消费，\n限制招投标")
	want := []string{"限制高消费", "限制出境", "high_consumption_ban", "travel_ban", "限制招投标"}
	if !slices.Equal(got, want) {
		t.Errorf("splitMeasures = %q, want %q", got, want)
	}
	if got := splitMeasures(" ；; "); len(got) != 0 {
		t.Errorf("separators alone give %q, want nothing", got)
	}
}
