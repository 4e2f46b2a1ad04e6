package logic

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// Value converts a Go value into the JSON shape conditions evaluate on:
// map[string]any, []any, float64, string, bool or nil. It always returns
// fresh maps and slices (a deep copy), so later changes to v do not reach
// the condition data.
//
//   - all integer and float kinds, and json.Number, become float64
//     (integers above 2^53 lose precision, as in JavaScript);
//   - time.Time becomes an RFC 3339 UTC string with second precision
//     ("2024-01-15T10:30:00Z"), the form of createdAt, so times compare as
//     strings in order (a type whose MarshalJSON gives that form, such as
//     the root package's Time, converts to the same string);
//   - []byte becomes a base64 string and json.RawMessage its decoded value,
//     as encoding/json does;
//   - slices and arrays become []any; maps become map[string]any (keys that
//     are not strings are formatted with fmt);
//   - pointers and interfaces are followed (nil → nil);
//   - values that implement json.Marshaler or encoding.TextMarshaler, and
//     structs, go through encoding/json, so their JSON tags apply;
//   - anything else (channels, functions, complex numbers, cyclic data
//     deeper than 100 levels) becomes nil.
func Value(v any) any {
	return ValueAtDepth(v, 0)
}

const maxJSONValueDepth = 100

// ValueAtDepth is Value of v found depth levels down in the value being
// converted: Value(x) is ValueAtDepth(x, 0), and the conversion of a map
// or slice converts each element at one level more, giving up (nil)
// beyond 100 levels. So walking a map down n keys and converting what is
// found with ValueAtDepth(found, n) gives what walking Value of the map
// would.
func ValueAtDepth(v any, depth int) any {
	var c converter
	return c.value(v, depth)
}

// ValueBudget is Value charging b one operation per ConvertPerOp values
// converted (a value shared by several maps or slices is converted, and
// charged, each time it is reached), so that the conversion of a large or
// exponentially shared context stops when b runs out or its context is
// done, with b's error. Values converted through encoding/json (structs,
// json.Marshaler and encoding.TextMarshaler) are charged for what the
// round trip produces, after it.
func ValueBudget(v any, b *Budget) (any, error) {
	return ValueAtDepthBudget(v, 0, b)
}

// ValueAtDepthBudget is ValueAtDepth charging b as ValueBudget does.
func ValueAtDepthBudget(v any, depth int, b *Budget) (any, error) {
	c := converter{b: b}
	out := c.value(v, depth)
	if c.err != nil {
		return nil, c.err
	}
	return out, nil
}

// ConvertPerOp is how many values converting to the JSON shape costs one
// operation (a number or string is copied in about 30 ns); a map costs
// ConvertMapOps more (about 500 ns to allocate and fill).
const (
	ConvertPerOp  = 4
	ConvertMapOps = 2
)

// convertWhere names the conversion for a budget's error.
const convertWhere = Label("the conversion of the request's context")

// converter converts values, counting them against a budget.
type converter struct {
	b   *Budget
	n   int64
	err error
}

// chargeMap charges a map's extra cost; false when the budget ran out.
func (c *converter) chargeMap() bool {
	if c.b == nil {
		return true
	}
	if err := c.b.Charge(ConvertMapOps, convertWhere); err != nil {
		c.err = err
		return false
	}
	return true
}

func (c *converter) value(v any, depth int) any {
	if depth > maxJSONValueDepth || c.err != nil {
		return nil
	}
	if c.b != nil {
		if c.n++; c.n%ConvertPerOp == 0 {
			if err := c.b.Charge(1, convertWhere); err != nil {
				c.err = err
				return nil
			}
		}
	}
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return x
	case bool:
		return x
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case uint:
		return float64(x)
	case uint64:
		return float64(x)
	case uint32:
		return float64(x)
	case float32:
		return float64(x)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case json.RawMessage:
		var out any
		dec := json.NewDecoder(bytes.NewReader(x))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			return nil
		}
		return c.value(out, depth+1)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case map[string]any:
		if !c.chargeMap() {
			return nil
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = c.value(e, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = c.value(e, depth+1)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = e
		}
		return out
	case map[string][]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = c.value(e, depth+1)
		}
		return out
	case json.Marshaler, encoding.TextMarshaler:
		return c.roundTrip(v, depth)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool()
	case reflect.String:
		return rv.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return c.value(rv.Elem().Interface(), depth+1)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 && rv.Kind() == reflect.Slice {
			return base64.StdEncoding.EncodeToString(rv.Bytes())
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = c.value(rv.Index(i).Interface(), depth+1)
		}
		return out
	case reflect.Map:
		if rv.IsNil() || !c.chargeMap() {
			return nil
		}
		out := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			k := iter.Key()
			var key string
			if k.Kind() == reflect.String {
				key = k.String()
			} else {
				key = fmt.Sprint(k.Interface())
			}
			out[key] = c.value(iter.Value().Interface(), depth+1)
		}
		return out
	case reflect.Struct:
		return c.roundTrip(v, depth)
	default:
		return nil
	}
}

// roundTrip converts v through encoding/json; nil when v cannot be
// encoded.
func (c *converter) roundTrip(v any, depth int) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil
	}
	return c.value(out, depth+1)
}
