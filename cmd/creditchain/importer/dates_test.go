package importer

import (
	"strings"
	"testing"
	"time"
)

func TestParseDateForms(t *testing.T) {
	// 2026-01-05 in China is 2026-01-04T16:00:00Z.
	jan5 := time.Date(2026, 1, 4, 16, 0, 0, 0, time.UTC)
	cases := []struct {
		in       string
		date1904 bool
		want     time.Time
	}{
		{"2026-01-05", false, jan5},
		{"2026-1-5", false, jan5},
		{"2026/1/5", false, jan5},
		{"2026/01/05", false, jan5},
		{"2026.1.5", false, jan5},
		{"2026年1月5日", false, jan5},
		{"2026年01月05日", false, jan5},
		{" 2026 年 1 月 5 日 ", false, jan5},
		{"20260105", false, jan5},
		{"2026-01-05 00:00:00", false, jan5},
		{"2026/1/5 8:30", false, jan5.Add(8*time.Hour + 30*time.Minute)},
		{"2026-01-04T16:00:00Z", false, jan5},
		{"2026-01-05T00:00:00+08:00", false, jan5},
		{"2026-01-05T00:00:00Z", false, jan5.Add(8 * time.Hour)},
		// Excel: 46027 is 2026-01-05 in the 1900 system; 44565 in 1904.
		{"46027", false, jan5},
		{"46027.5", false, jan5.Add(12 * time.Hour)},
		{"44565", true, jan5},
		{"61", false, time.Date(1900, 3, 1, 0, 0, 0, 0, chinaTime).UTC()},
	}
	for _, c := range cases {
		got, err := ParseDate(c.in, c.date1904)
		if err != nil {
			t.Errorf("ParseDate(%q): %v", c.in, err)
			continue
		}
		if !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("ParseDate(%q) = %s, want %s in UTC", c.in, got, c.want)
		}
	}
}

func TestParseDateRefusals(t *testing.T) {
	cases := map[string]string{
		"":            "empty",
		"2026-02-30":  "not a real date",
		"2026-13-01":  "not a real date",
		"2026/1/5/1":  "not a date",
		"5/1/2026":    "not a date",
		"1899-12-31":  "before 1900",
		"60":          "before 1900-03-01",
		"99999999":    "not a real date",
		"3000000":     "not an Excel date serial",
		"明天":          "not a date",
		"2026-01-05x": "not a date",
	}
	for in, want := range cases {
		_, err := ParseDate(in, false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDate(%q) = %v, want an error saying %q", in, err, want)
		}
	}
}

func TestFormatDateRoundTrips(t *testing.T) {
	for _, in := range []string{"2026-01-05", "2026-01-05T00:00:00Z", "2026-01-05T03:04:05.5Z"} {
		t0, err := ParseDate(in, false)
		if err != nil {
			t.Fatal(err)
		}
		out := FormatDate(t0)
		t1, err := ParseDate(out, false)
		if err != nil || !t1.Equal(t0) {
			t.Errorf("%q → %s → %q → %s (%v)", in, t0, out, t1, err)
		}
	}
	if got := FormatDate(time.Date(2026, 1, 4, 16, 0, 0, 0, time.UTC)); got != "2026-01-05" {
		t.Errorf("China midnight formats as %q, want the date alone", got)
	}
}
