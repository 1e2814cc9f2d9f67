package importer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/creditchain/creditchain/pkg/txn"
)

// indefiniteTerms are the ways lists say "no term" (e.g. a court defaulter
// able to perform but refusing: SPC provisions 2017 art. 2).
var indefiniteTerms = map[string]bool{
	"无期限": true, "无固定期限": true, "长期": true, "永久": true, "不定期": true, "无": true,
	"indefinite": true, "none": true, "permanent": true,
}

// termPart is a number and a unit: 2年, 6个月, 十八个月, 90天, 2 years.
var termPart = regexp.MustCompile(`^([0-9]+|[零〇一二两三四五六七八九十百]+)\s*(年|个月|月|周|星期|天|日|years?|months?|weeks?|days?)`)

// ParseTerm reads a record's term and returns it as an ISO 8601 duration,
// or "" for an indefinite term. Accepted: ISO 8601 (P2Y, P1Y6M, P90D),
// Chinese (2年, 6个月, 1年6个月, 两年, 十八个月, 半年, 90天) and English
// (2 years, 6 months). An empty cell is an error, not "indefinite": a
// forgotten term must not become a listing without end; write 无期限.
func ParseTerm(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fmt.Errorf("empty (write 无期限 for a record without term)")
	case indefiniteTerms[strings.ToLower(s)]:
		return "", nil
	case s[0] == 'P' || s[0] == 'p':
		d, err := txn.ParseDuration(strings.ToUpper(s))
		if err != nil {
			return "", err
		}
		return checkTerm(d, s)
	case s == "半年":
		return "P6M", nil
	}
	var d txn.Duration
	rest := strings.ToLower(s)
	for rest != "" {
		m := termPart.FindStringSubmatch(rest)
		if m == nil {
			return "", fmt.Errorf("%q is not a term (P2Y, 2年, 6个月, 1年6个月 or 无期限)", s)
		}
		n, err := parseNumber(m[1])
		if err != nil {
			return "", fmt.Errorf("%q: %w", s, err)
		}
		switch u := m[2]; {
		case u == "年" || strings.HasPrefix(u, "year"):
			d.Years += n
		case u == "个月" || u == "月" || strings.HasPrefix(u, "month"):
			d.Months += n
		case u == "周" || u == "星期" || strings.HasPrefix(u, "week"):
			d.Days += 7 * n
		default:
			d.Days += n
		}
		rest = strings.TrimLeft(rest[len(m[0]):], " ,，")
		rest = strings.TrimPrefix(rest, "零")
		rest = strings.TrimPrefix(rest, "又")
	}
	return checkTerm(d, s)
}

func checkTerm(d txn.Duration, s string) (string, error) {
	if d.Hours != 0 || d.Minutes != 0 || d.Seconds != 0 {
		return "", fmt.Errorf("%q: a term counts years, months or days", s)
	}
	if d.Years == 0 && d.Months == 0 && d.Days == 0 {
		return "", fmt.Errorf("%q is a zero term (write 无期限 for a record without term)", s)
	}
	return d.String(), nil
}

var chineseDigits = map[rune]int{'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4,
	'五': 5, '六': 6, '七': 7, '八': 8, '九': 9}

// parseNumber reads an Arabic number or a Chinese one up to 999
// (十八, 二十四, 三十六, 一百二十).
func parseNumber(s string) (int, error) {
	if s[0] >= '0' && s[0] <= '9' {
		n, err := strconv.Atoi(s)
		if err != nil || n > 1_000_000 {
			return 0, fmt.Errorf("number %s too large", s)
		}
		return n, nil
	}
	total, cur := 0, -1
	for _, r := range s {
		switch r {
		case '百', '十':
			unit := 10
			if r == '百' {
				unit = 100
			}
			if cur < 0 {
				cur = 1 // 十八 is 18
			}
			total += cur * unit
			cur = -1
		default:
			if cur >= 0 {
				return 0, fmt.Errorf("cannot read the number %s", s)
			}
			cur = chineseDigits[r]
		}
	}
	if cur > 0 {
		total += cur
	}
	return total, nil
}
