package ids

import (
	"fmt"
	"time"
)

// civilDate is a calendar date with no time zone, so comparisons cannot be
// skewed by the zone of a time.Time.
type civilDate struct {
	year  int
	month time.Month
	day   int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

// real reports whether the date exists: time.Date normalises 02-30 to
// 03-02, so a date is real exactly when normalising leaves it unchanged.
func (c civilDate) real() bool {
	if c.month < time.January || c.month > time.December || c.day < 1 {
		return false
	}
	return dateOf(time.Date(c.year, c.month, c.day, 0, 0, 0, 0, time.UTC)) == c
}

func (c civilDate) before(o civilDate) bool {
	if c.year != o.year {
		return c.year < o.year
	}
	if c.month != o.month {
		return c.month < o.month
	}
	return c.day < o.day
}

func (c civilDate) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", c.year, int(c.month), c.day)
}
