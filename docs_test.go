package authz_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// docFiles returns the Markdown files that ship as documentation: README.md
// and docs/*.md.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no docs/*.md files found")
	}
	return append([]string{"README.md"}, files...)
}

// mdLink matches the target of an inline Markdown link or image: ](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// markdownProse returns the lines of a Markdown document with inline code
// spans removed and the lines of fenced code blocks emptied: the text whose
// links a reader can follow, line i being line i+1 of the file.
func markdownProse(doc string) []string {
	var out []string
	fenced := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			out = append(out, "")
			continue
		}
		if fenced {
			out = append(out, "")
			continue
		}
		out = append(out, stripCodeSpans(line))
	}
	return out
}

var codeSpan = regexp.MustCompile("`[^`]*`")

func stripCodeSpans(line string) string { return codeSpan.ReplaceAllString(line, "") }

// headingAnchors returns the anchors GitHub gives the headings of a Markdown
// document: lower case, punctuation other than - and _ dropped, spaces made
// hyphens, and -1, -2… added to repeated anchors.
func headingAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	fenced := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') || r > 127:
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			anchors[a+"-"+strconv.Itoa(n)] = true
		} else {
			anchors[a] = true
		}
		seen[a]++
	}
	return anchors
}

// TestDocsLinks checks that every relative link of README.md and docs/*.md
// names a file that exists and, for a link to a Markdown file with a
// #fragment, a heading of that file.
func TestDocsLinks(t *testing.T) {
	for _, file := range docFiles(t) {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range markdownProse(string(raw)) {
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path, frag, _ := strings.Cut(target, "#")
				resolved := file
				if path != "" {
					resolved = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
					if _, err := os.Stat(resolved); err != nil {
						t.Errorf("%s:%d: link %q: %v", file, i+1, target, err)
						continue
					}
				}
				if frag == "" || !strings.HasSuffix(resolved, ".md") {
					continue
				}
				doc, err := os.ReadFile(resolved)
				if err != nil {
					t.Errorf("%s: link %q: %v", file, target, err)
					continue
				}
				if !headingAnchors(string(doc))[frag] {
					t.Errorf("%s:%d: link %q: %s has no heading with anchor %q", file, i+1, target, resolved, frag)
				}
			}
		}
	}
}

// TestDocsIndex checks that docs/README.md links to every other page of
// docs/.
func TestDocsIndex(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("docs", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var linked []string
	for _, line := range markdownProse(string(raw)) {
		for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
			path, _, _ := strings.Cut(m[1], "#")
			linked = append(linked, path)
		}
	}
	for _, file := range docFiles(t) {
		if filepath.Dir(file) != "docs" || filepath.Base(file) == "README.md" {
			continue
		}
		if !slices.Contains(linked, filepath.Base(file)) {
			t.Errorf("docs/README.md does not link to %s", file)
		}
	}
}

// TestDocsNoInternalReferences checks that nothing users read (README.md,
// docs/, RELIABILITY.md, BENCHMARKS.md, and every Go file, whose comments
// are the godoc) refers to the team's internal specification: users learn
// the model from the repository alone. This file, which names what it
// looks for, is left out; so is RFC 3986's "§5.2.4", which is public.
func TestDocsNoInternalReferences(t *testing.T) {
	var files []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".md")) && path != "docs_test.go" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("found %d files; want the whole repository", len(files))
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(raw), "\n") {
			line = strings.ReplaceAll(line, "RFC 3986 §5.2.4", "")
			for _, bad := range []string{"SPEC", "§"} {
				if strings.Contains(line, bad) {
					t.Errorf("%s:%d: refers to the internal specification (%q): %s", file, i+1, bad, strings.TrimSpace(line))
				}
			}
		}
	}
}
