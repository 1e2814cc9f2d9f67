package ids_test

import (
	"testing"

	"github.com/creditchain/creditchain/pkg/ids"
)

func TestMaskID(t *testing.T) {
	cases := map[string]string{
		"11010519491231002X": "110105********002X",
		"110105491231002":    "110105********1002", // 15-digit old IDs keep the same shape
		"12345678901":        "123456********8901",
		"1234567890":         "**********",
		"123":                "***",
		"":                   "",
		"一二三四五六七八九十十一":       "一二三四五六********九十十一",
	}
	for in, want := range cases {
		if got := ids.MaskID(in); got != want {
			t.Errorf("MaskID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskName(t *testing.T) {
	cases := map[string]string{
		"张三":      "张*",
		"欧阳娜":     "欧**",
		"张":       "张",
		"":        "",
		"阿卜杜·热合曼": "阿******",
		"Li Lei":  "L*****",
	}
	for in, want := range cases {
		if got := ids.MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}
