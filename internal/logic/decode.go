package logic

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"
)

// Decode decodes one JSON value into map[string]any, []any,
// float64, string, bool and nil. Unlike json.Unmarshal it rejects duplicate
// object keys, numbers that overflow float64 and trailing data, and it
// enforces maxDepth (nesting of objects and arrays) and maxNodes (JSON
// values) while reading, so hostile input is refused before it is built.
// Errors are *Error (with no Path).
func Decode(raw []byte, maxDepth, maxNodes int) (any, error) {
	d := &treeDecoder{dec: json.NewDecoder(bytes.NewReader(raw)), maxDepth: maxDepth, maxNodes: maxNodes}
	d.dec.UseNumber()
	tok, err := d.token()
	if err != nil {
		return nil, err
	}
	v, err := d.value(tok, 1)
	if err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, errorAt("", "malformed JSON: unexpected data after the value")
	}
	return v, nil
}

type treeDecoder struct {
	dec                *json.Decoder
	maxDepth, maxNodes int
	nodes              int
}

func (d *treeDecoder) token() (json.Token, error) {
	tok, err := d.dec.Token()
	if err == io.EOF {
		return nil, errorAt("", "malformed JSON: unexpected end of input")
	}
	if err != nil {
		return nil, errorAt("", "malformed JSON: %v", err)
	}
	return tok, nil
}

func (d *treeDecoder) value(tok json.Token, depth int) (any, error) {
	d.nodes++
	if d.nodes > d.maxNodes {
		return nil, errorAt("", "JSON has more than %d values", d.maxNodes)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth > d.maxDepth {
			return nil, errorAt("", "JSON nests deeper than %d levels", d.maxDepth)
		}
		if t == '[' {
			arr := []any{}
			for {
				tok, err := d.token()
				if err != nil {
					return nil, err
				}
				if tok == json.Delim(']') {
					return arr, nil
				}
				v, err := d.value(tok, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
		}
		obj := map[string]any{}
		for {
			tok, err := d.token()
			if err != nil {
				return nil, err
			}
			if tok == json.Delim('}') {
				return obj, nil
			}
			key := tok.(string) // the decoder guarantees a string key here
			if _, dup := obj[key]; dup {
				return nil, errorAt("", "malformed JSON: duplicate key %q", key)
			}
			tok, err = d.token()
			if err != nil {
				return nil, err
			}
			v, err := d.value(tok, depth+1)
			if err != nil {
				return nil, err
			}
			obj[key] = v
		}
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, errorAt("", "number %s is out of range", t)
		}
		return f, nil
	default: // string, bool, nil
		return t, nil
	}
}
