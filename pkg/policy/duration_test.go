package policy

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestParseDurationValid(t *testing.T) {
	cases := map[string]Duration{
		"P2Y":             {Years: 2},
		"P3M":             {Months: 3},
		"P1Y2M3DT4H5M6S":  {1, 2, 3, 4, 5, 6},
		"PT36H":           {Hours: 36},
		"P10D":            {Days: 10},
		"PT0S":            {},
		"P0D":             {},
		"P1DT1S":          {Days: 1, Seconds: 1},
		"PT1M":            {Minutes: 1},
		"P9999Y":          {Years: 9999},
		"P1000000D":       {Days: 1000000},
		"P02Y":            {Years: 2},
		"P1Y1DT1H1M":      {Years: 1, Days: 1, Hours: 1, Minutes: 1},
		"P1M1DT1M":        {Months: 1, Days: 1, Minutes: 1},
		"P0Y0M0DT0H0M10S": {Seconds: 10},
	}
	for in, want := range cases {
		got, err := ParseDuration(in)
		if err != nil {
			t.Errorf("ParseDuration(%q): %v", in, err)
			continue
		}
		if got != want {
			t.Errorf("ParseDuration(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestParseDurationInvalid(t *testing.T) {
	for _, in := range []string{
		"", "P", "PT", "2Y", "p2y", "P2y", "P-1Y", "P+1Y", "P1.5Y", "P1W", "P1Y1Y",
		"P1M1Y", "P1D1M", "PT1S1M", "P1H", "PT1D", "P1YT", "P1Y2", "PY", "P 1Y",
		"P10000Y", "P1000001D", "P99999999D", "PT1H1H", "P1YT1Y", "P1Y ", "P1YTT1H",
	} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %+v, want an error", in, d)
		}
	}
}

func TestDurationString(t *testing.T) {
	cases := map[Duration]string{
		{}:                  "PT0S",
		{Years: 2}:          "P2Y",
		{Months: 3}:         "P3M",
		{1, 2, 3, 4, 5, 6}:  "P1Y2M3DT4H5M6S",
		{Minutes: 1}:        "PT1M",
		{Days: 1, Hours: 2}: "P1DT2H",
	}
	for d, want := range cases {
		if got := d.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", d, got, want)
		}
	}
}

func TestDurationAddTo(t *testing.T) {
	utc := func(y int, m time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, m, d, h, mi, s, 0, time.UTC)
	}
	cases := []struct {
		start time.Time
		d     string
		want  time.Time
	}{
		{utc(2024, 2, 29, 0, 0, 0), "P1Y", utc(2025, 3, 1, 0, 0, 0)},
		{utc(2024, 2, 29, 0, 0, 0), "P4Y", utc(2028, 2, 29, 0, 0, 0)},
		{utc(2026, 1, 5, 0, 0, 0), "P2Y", utc(2028, 1, 5, 0, 0, 0)},
		{utc(2025, 1, 31, 0, 0, 0), "P1M", utc(2025, 3, 3, 0, 0, 0)},
		{utc(2024, 1, 31, 0, 0, 0), "P1M", utc(2024, 3, 2, 0, 0, 0)},
		{utc(2025, 11, 30, 12, 0, 0), "P3M", utc(2026, 3, 2, 12, 0, 0)},
		{utc(2025, 12, 31, 23, 0, 0), "PT1H", utc(2026, 1, 1, 0, 0, 0)},
		{utc(2025, 3, 1, 0, 0, 0), "P1DT25H", utc(2025, 3, 3, 1, 0, 0)},
		{utc(2025, 3, 1, 0, 0, 0), "PT0S", utc(2025, 3, 1, 0, 0, 0)},
	}
	for _, c := range cases {
		if got := MustParseDuration(c.d).AddTo(c.start); !got.Equal(c.want) {
			t.Errorf("%s + %s = %s, want %s", c.start, c.d, got, c.want)
		}
	}
}

func TestDurationText(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("P1Y6M")); err != nil {
		t.Fatal(err)
	}
	b, err := d.MarshalText()
	if err != nil || string(b) != "P1Y6M" {
		t.Fatalf("MarshalText = %q, %v", b, err)
	}
	if err := d.UnmarshalText([]byte("P1W")); err == nil {
		t.Fatal("UnmarshalText accepted P1W")
	}
}

func TestDurationRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := Duration{
			Years:   rapid.IntRange(0, maxYears).Draw(t, "y"),
			Months:  rapid.IntRange(0, maxComponent).Draw(t, "mo"),
			Days:    rapid.IntRange(0, maxComponent).Draw(t, "d"),
			Hours:   rapid.IntRange(0, maxComponent).Draw(t, "h"),
			Minutes: rapid.IntRange(0, maxComponent).Draw(t, "mi"),
			Seconds: rapid.IntRange(0, maxComponent).Draw(t, "s"),
		}
		got, err := ParseDuration(d.String())
		if err != nil {
			t.Fatalf("ParseDuration(%q): %v", d.String(), err)
		}
		if got != d {
			t.Fatalf("round trip of %+v gave %+v", d, got)
		}
	})
}
