package txn

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	good := map[string]Duration{
		"P2Y":            {Years: 2},
		"P3M":            {Months: 3},
		"P1Y6M":          {Years: 1, Months: 6},
		"P30D":           {Days: 30},
		"P2W":            {Days: 14},
		"P1W2D":          {Days: 9},
		"PT12H":          {Hours: 12},
		"PT90M":          {Minutes: 90},
		"PT0S":           {},
		"P1Y2M3DT4H5M6S": {Years: 1, Months: 2, Days: 3, Hours: 4, Minutes: 5, Seconds: 6},
		"P0D":            {},
		"P999999Y":       {Years: 999999},
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "P", "PT", "2Y", "p2y", "P2y", "P-2Y", "P+2Y", "P2.5Y", "P2,5Y",
		"P2M1Y", "P1Y1Y", "P1D2M", "PT1H1D", "P1H", "PT1Y", "P1YT", "P1000000Y", "P Y", "PY", "P2YX", "P1Y 2M", "P٣Y"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %+v, want an error", in, d)
		}
	}
}

func TestDurationString(t *testing.T) {
	for in, want := range map[string]string{
		"P2Y": "P2Y", "P1Y6M": "P1Y6M", "P2W": "P14D", "PT0S": "PT0S", "P0D": "PT0S",
		"P1Y2M3DT4H5M6S": "P1Y2M3DT4H5M6S", "PT30M": "PT30M",
	} {
		d, err := ParseDuration(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.String(); got != want {
			t.Errorf("%s: String() = %s, want %s", in, got, want)
		}
		if back, err := ParseDuration(d.String()); err != nil || back != d {
			t.Errorf("%s does not round-trip: %+v %v", in, back, err)
		}
	}
}

func TestDurationAddTo(t *testing.T) {
	day := func(s string) time.Time {
		t.Helper()
		v, err := ParseTime(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct{ start, dur, want string }{
		{"2026-01-05T00:00:00Z", "P2Y", "2028-01-05T00:00:00Z"},
		{"2026-01-05T00:00:00Z", "P3M", "2026-04-05T00:00:00Z"},
		{"2026-01-05T10:30:00.5Z", "P1Y6M", "2027-07-05T10:30:00.5Z"},
		{"2024-01-31T00:00:00Z", "P1M", "2024-02-29T00:00:00Z"}, // month end, leap year
		{"2025-01-31T00:00:00Z", "P1M", "2025-02-28T00:00:00Z"},
		{"2024-02-29T00:00:00Z", "P1Y", "2025-02-28T00:00:00Z"},
		{"2024-02-29T00:00:00Z", "P4Y", "2028-02-29T00:00:00Z"},
		{"2026-08-31T00:00:00Z", "P1M", "2026-09-30T00:00:00Z"},
		{"2026-11-30T00:00:00Z", "P3M", "2027-02-28T00:00:00Z"},
		{"2026-12-15T00:00:00Z", "P1M", "2027-01-15T00:00:00Z"},
		{"2026-01-31T00:00:00Z", "P1M1D", "2026-03-01T00:00:00Z"}, // clamp, then days
		{"2026-01-05T00:00:00Z", "P30D", "2026-02-04T00:00:00Z"},
		{"2026-01-05T00:00:00Z", "PT36H", "2026-01-06T12:00:00Z"},
		{"2026-01-05T23:00:00Z", "P1DT2H", "2026-01-07T01:00:00Z"},
		{"2026-01-05T00:00:00Z", "P20Y", "2046-01-05T00:00:00Z"},
	}
	for _, c := range cases {
		d, err := ParseDuration(c.dur)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatTime(d.AddTo(day(c.start))); got != c.want {
			t.Errorf("%s + %s = %s, want %s", c.start, c.dur, got, c.want)
		}
	}
}

func TestTimes(t *testing.T) {
	v, err := ParseTime("2026-11-25T08:00:00.123456789Z")
	if err != nil || v.Nanosecond() != 123456789 || v.Location() != time.UTC {
		t.Fatalf("%v %v", v, err)
	}
	if s := FormatTime(v.In(time.FixedZone("CST", 8*3600))); s != "2026-11-25T08:00:00.123456789Z" {
		t.Fatalf("FormatTime = %s", s)
	}
	if s := FormatTime(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)); s != "2026-01-05T00:00:00Z" {
		t.Fatalf("FormatTime = %s", s)
	}
}

func TestCheckFreshness(t *testing.T) {
	e := &Envelope{CreatedAt: "2026-11-25T08:00:00Z"}
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{0, 5 * time.Minute, -5 * time.Minute} {
		if err := CheckFreshness(e, now.Add(d), 5*time.Minute); err != nil {
			t.Errorf("%v off: %v", d, err)
		}
	}
	for _, d := range []time.Duration{5*time.Minute + time.Second, -6 * time.Minute, 24 * time.Hour} {
		err := CheckFreshness(e, now.Add(d), 5*time.Minute)
		if err == nil || err.Code != "stale_timestamp" || err.Status != 400 {
			t.Errorf("%v off: %v", d, err)
		}
	}
	if err := CheckFreshness(&Envelope{CreatedAt: "yesterday"}, now, time.Minute); err == nil || err.Code != "malformed" {
		t.Errorf("bad time: %v", err)
	}
}
