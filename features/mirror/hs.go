package mirror

import (
	"fmt"
	"strings"
)

// levelTotal is the aggregate level of the all-commodities row ("TOTAL").
const levelTotal = 0

// codeTotal is the commodity code of the all-commodities row.
const codeTotal = "TOTAL"

// normHS checks a commodity code against its aggregate level (2, 4 or 6
// digits, or 0 for TOTAL; -1 when the file has no level column) and restores
// the leading zero that spreadsheets drop: "10121" at level 6 is "010121".
// It returns the code and its level.
func normHS(code string, level int) (string, int, error) {
	code = strings.TrimSpace(code)
	if strings.EqualFold(code, codeTotal) {
		if level > 0 {
			return "", 0, fmt.Errorf("is the all-commodities code but the row's aggregate level is %d", level)
		}
		return codeTotal, levelTotal, nil
	}
	if !isDigits(code) {
		return "", 0, fmt.Errorf("is not an HS code (digits or TOTAL)")
	}
	switch level {
	case -1:
		switch len(code) {
		case 1, 3, 5:
			code = "0" + code
		case 2, 4, 6:
		default:
			return "", 0, fmt.Errorf("has %d digits; HS codes in trade statistics have 2, 4 or 6", len(code))
		}
		return code, len(code), nil
	case 2, 4, 6:
		switch {
		case len(code) == level:
		case len(code) == level-1:
			code = "0" + code
		default:
			return "", 0, fmt.Errorf("has %d digits but the row's aggregate level is %d", len(code), level)
		}
		return code, level, nil
	case levelTotal:
		return "", 0, fmt.Errorf("is a commodity code but the row's aggregate level is 0 (TOTAL)")
	}
	return "", 0, fmt.Errorf("has aggregate level %d; expected 2, 4 or 6", level)
}
