package modelfile

import (
	"bytes"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// yamlPos is where the keys and items of a YAML mapping are: it gives YAML
// files the lines JSON files get from their offsets. sigs.k8s.io/yaml
// converts YAML to JSON and keeps no positions, so the file is parsed a
// second time into a node tree, which keeps aliases unexpanded; when that
// parse fails, or the shapes differ, lines are 0.
type yamlPos struct {
	// keys is the line of each key of the mapping.
	keys map[string]int
	// items holds, per key whose value is a sequence, its items.
	items map[string][]*yaml.Node
}

// parseYAMLPos parses data and returns the positions of its top-level
// mapping, or of the mapping at key path below it (the inline model of a
// test file). It returns nil when there is no such mapping.
func parseYAMLPos(data []byte, path ...string) (p *yamlPos) {
	// The positions are a help: a panic of the second parser on input the
	// first accepted costs the lines, not the parse.
	defer func() {
		if recover() != nil {
			p = nil
		}
	}()
	var doc yaml.Node
	if yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc) != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil
	}
	n := doc.Content[0]
	for _, key := range path {
		if n = mappingValue(n, key); n == nil {
			return nil
		}
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	p = &yamlPos{keys: map[string]int{}, items: map[string][]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p.keys[k.Value] = k.Line
		if v.Kind == yaml.SequenceNode {
			p.items[k.Value] = v.Content
		}
	}
	return p
}

// mappingValue returns the value of key in mapping n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// itemLine returns the line of item index of the list key and, when field
// (a JSON field path such as "config.permissionMode") names a key of the
// item, the line of that key; 0 when unknown. A JSON field path names no
// list index ("memberships.roleIds"): in a list, the first item that has
// the next key is taken.
func (p *yamlPos) itemLine(key string, index int, field string) int {
	if p == nil || index < 0 || index >= len(p.items[key]) {
		return 0
	}
	n := p.items[key][index]
	if field != "" && !strings.Contains(field, ".") && mappingValue(n, field) == nil {
		// encoding/json names an unknown field of a nested object by its
		// key alone.
		if k := findKey(n, field); k != nil {
			return k.Line
		}
	}
	line := n.Line
	for seg := range strings.SplitSeq(field, ".") {
		if seg == "" {
			break
		}
		if n.Kind == yaml.SequenceNode {
			for _, it := range n.Content {
				if mappingValue(it, seg) != nil {
					n = it
					break
				}
			}
		}
		v := mappingValue(n, seg)
		if v == nil {
			break
		}
		line, n = keyLine(n, seg), v
	}
	return line
}

// findKey returns the first key node named key below n, depth first.
func findKey(n *yaml.Node, key string) *yaml.Node {
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 {
			if c.Value == key {
				return c
			}
			continue
		}
		if k := findKey(c, key); k != nil {
			return k
		}
	}
	return nil
}

// keyLine returns the line of key in mapping n.
func keyLine(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return n.Line
}

// lines returns the line of each item of each list.
func (p *yamlPos) lines() map[string][]int {
	out := map[string][]int{}
	if p == nil {
		return out
	}
	for k, items := range p.items {
		for _, it := range items {
			out[k] = append(out[k], it.Line)
		}
	}
	return out
}
