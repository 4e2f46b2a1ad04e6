package logic

import (
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Values are JSON-shaped: nil, bool, float64, string, []any and
// map[string]any, as encoding/json decodes into an any. A value of any
// other Go type in the data is treated like an object (it is never a
// number, a string or an array). The conversions
// below are those of JSON Logic as github.com/diegoholiveira/jsonlogic/v3
// v3.9.1 implements them, which is what stored conditions have always been
// evaluated with; they are not JavaScript's in every case (noted).

// Truthy reports whether v counts as true: true, a number other than 0
// (NaN is true), a non-empty string, array or object. null, false, 0, "",
// [] and {} are false, and so is a value of any other Go type.
func Truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return false
}

// toNumber converts for arithmetic, min, max, the bounds of in's ranges,
// substr's positions and missing_some's count: a number is itself, a
// string is parsed (0 when it is not a number, ±Inf when it overflows).
// ok is false for null, booleans, arrays and objects, which are errors.
func toNumber(v any) (f float64, ok bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f, true
	}
	return 0, false
}

// looseNumber converts for comparisons: null is 0, booleans 1 and 0, a
// blank string 0, another string its value when it parses completely (NaN
// otherwise, also when it overflows), arrays and objects NaN.
func looseNumber(v any) float64 {
	switch x := v.(type) {
	case nil:
		return 0
	case float64:
		return x
	case bool:
		if x {
			return 1
		}
		return 0
	case string:
		if strings.TrimSpace(x) == "" {
			return 0
		}
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	}
	return math.NaN()
}

// toString converts for cat and substr: a number is formatted without
// exponent ("1e21" is "1000000000000000000000"), null is "". ok is false
// for booleans, arrays and objects, which are errors.
func toString(v any) (s string, ok bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case nil:
		return "", true
	}
	return "", false
}

// less is a < b: string order when both are strings, else the order of
// their looseNumber (false when either is NaN).
func less(a, b any) bool {
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			return x < y
		}
	}
	return looseNumber(b) > looseNumber(a)
}

// equals is ==: null equals only null, two strings compare as strings,
// anything else by looseNumber (so "1" == 1 and true == 1, arrays and
// objects equal nothing).
func equals(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			return x == y
		}
	}
	return looseNumber(a) == looseNumber(b)
}

// strictEquals is ===: values of the same JSON type that are equal (by
// equals; so arrays and objects are never strictly equal, even to
// themselves).
func strictEquals(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if kindOf(a) != kindOf(b) {
		return false
	}
	return equals(a, b)
}

// kindOf is the reflect kind of a non-nil value.
func kindOf(v any) reflect.Kind {
	switch v.(type) {
	case float64:
		return reflect.Float64
	case string:
		return reflect.String
	case bool:
		return reflect.Bool
	case []any:
		return reflect.Slice
	case map[string]any:
		return reflect.Map
	}
	return reflect.ValueOf(v).Kind()
}

// isPrimitive reports whether v is a boolean, a string or a number.
func isPrimitive(v any) bool {
	switch v.(type) {
	case bool, string, float64:
		return true
	}
	return false
}

// typeName names the JSON type of v for error messages (KindName).
func typeName(v any) string { return KindName(v) }

// strWork is the operations of reading v when it is a string: one per 64
// bytes (so short strings cost nothing beyond their operator), and, for a
// string that may be converted to a number, what that can cost
// (parseCost). Callers charge it whether or not the conversion happens: it
// is an upper bound.
func strWork(v any) int64 {
	if s, ok := v.(string); ok {
		return int64(len(s)>>6) + parseCost(s)
	}
	return 0
}

// slowParse is the cost of a string strconv.ParseFloat may parse on its
// slow path (a big-decimal computation of 10 to 15 µs on the development
// machine, against 20 ns for the usual numbers), in operations.
const slowParse = 1024

// parseCost is what converting s to a number may cost beyond reading it:
// slowParse for a string whose conversion may take strconv's slow path,
// nothing for the others. The slow path is taken only for more than 19
// significant digits, or a decimal exponent near or beyond the ends of
// float64's normal range (1e-320 is one); both are recognised in one pass
// over s, conservatively.
func parseCost(s string) int64 {
	digits, exp, expDigits := 0, 0, 0
	seenNonZero, inExp, expNeg := false, false, false
	point := -1 // digits before the decimal point, once it is seen
	lead := 0   // significant digits before the point
	zerosAfterPoint := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inExp && c >= '0' && c <= '9':
			if expDigits < 6 {
				exp = exp*10 + int(c-'0')
			}
			expDigits++
		case inExp && (c == '-' || c == '+') && expDigits == 0:
			expNeg = c == '-'
		case c >= '0' && c <= '9':
			if c != '0' || seenNonZero {
				seenNonZero = true
				digits++
				if point < 0 {
					lead++
				}
			} else if point >= 0 {
				zerosAfterPoint++
			}
		case c == '.' && point < 0 && !inExp:
			point = lead
		case (c == 'e' || c == 'E') && !inExp:
			inExp = true
		case c == '_' || c == 'x' || c == 'X' || c == 'p' || c == 'P':
			// Underscores and hexadecimal forms are not numbers here but
			// strconv may still read them: count them as hard.
			return slowParse
		}
	}
	if expNeg {
		exp = -exp
	}
	// The decimal exponent of the leading significant digit.
	mag := exp + lead - 1
	if lead == 0 {
		mag = exp - zerosAfterPoint - 1
	}
	if digits > 19 || (seenNonZero && (mag < -290 || mag > 307)) || expDigits > 3 {
		return slowParse
	}
	return 0
}
