package txn

import "encoding/json"

// Walking canonical JSON. The shape checks run on the output of
// canonicalize, which is valid JSON without insignificant whitespace, so
// members and items can be found by skipping values instead of decoding
// them into maps (which cost a sixth of a node's CPU).

// eachMember calls fn with the raw name (escapes not decoded) and raw value
// of every member of the canonical object c.
func eachMember(c []byte, fn func(name, value []byte)) {
	i := 1
	for i < len(c) && c[i] == '"' {
		end := skipString(c, i)
		name := c[i+1 : end-1]
		i = end + 1 // ':'
		vend := skipValue(c, i)
		fn(name, c[i:vend])
		i = vend
		if i < len(c) && c[i] == ',' {
			i++
		}
	}
}

// eachItem calls fn with every item of the canonical array c.
func eachItem(c []byte, fn func(value []byte)) {
	i := 1
	for i < len(c) && c[i] != ']' {
		end := skipValue(c, i)
		fn(c[i:end])
		i = end
		if i < len(c) && c[i] == ',' {
			i++
		}
	}
}

// skipValue returns the index just past the value that starts at c[i].
func skipValue(c []byte, i int) int {
	switch c[i] {
	case '"':
		return skipString(c, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(c); j++ {
			switch c[j] {
			case '"':
				j = skipString(c, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(c)
	default: // a number or a literal
		j := i
		for j < len(c) && c[j] != ',' && c[j] != '}' && c[j] != ']' {
			j++
		}
		return j
	}
}

// skipString returns the index just past the string that starts at c[i].
func skipString(c []byte, i int) int {
	for j := i + 1; j < len(c); j++ {
		switch c[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(c)
}

// memberName decodes a raw member name for messages.
func memberName(raw []byte) string {
	var s string
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	if json.Unmarshal(q, &s) != nil {
		return string(raw)
	}
	return s
}
