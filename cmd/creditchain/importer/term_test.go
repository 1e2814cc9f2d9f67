package importer

import (
	"strings"
	"testing"
)

func TestParseTerm(t *testing.T) {
	cases := map[string]string{
		"P2Y": "P2Y", "p3m": "P3M", "P1Y6M": "P1Y6M", "P2W": "P14D",
		"2年": "P2Y", "6个月": "P6M", "6月": "P6M", "1年6个月": "P1Y6M", "两年": "P2Y", "三年": "P3Y",
		"十八个月": "P18M", "二十四个月": "P24M", "一年零六个月": "P1Y6M", "一年又六个月": "P1Y6M", "半年": "P6M",
		"90天": "P90D", "90日": "P90D", "2周": "P14D", "2 years": "P2Y", "6 months": "P6M",
		"无期限": "", "长期": "", "永久": "", "indefinite": "", "None": "",
	}
	for in, want := range cases {
		got, err := ParseTerm(in)
		if err != nil || got != want {
			t.Errorf("ParseTerm(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestParseTermRefusals(t *testing.T) {
	cases := map[string]string{
		"":        "无期限",
		"P0D":     "zero term",
		"0年":      "zero term",
		"PT12H":   "years, months or days",
		"两年半":     "not a term",
		"2 冬":     "not a term",
		"P2":      "expected",
		"二二年":     "cannot read",
		"forever": "not a term",
	}
	for in, want := range cases {
		got, err := ParseTerm(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTerm(%q) = %q, %v; want an error saying %q", in, got, err, want)
		}
	}
}
