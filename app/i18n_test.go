package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// declaredKeys are the Key constants of the package's non-test files, by name.
func declaredKeys(t *testing.T) map[string]Key {
	t.Helper()
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	keys := map[string]Key{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Key" {
					continue
				}
				for i, name := range vs.Names {
					lit := vs.Values[i].(*ast.BasicLit)
					keys[name.Name] = Key(strings.Trim(lit.Value, `"`))
				}
			}
		}
	}
	return keys
}

// TestCatalogues: both languages have exactly the declared keys, each string takes the same
// arguments in both, and every key is drawn somewhere outside the catalogues.
func TestCatalogues(t *testing.T) {
	keys := declaredKeys(t)
	if len(keys) < 100 {
		t.Fatalf("found only %d keys: is the scan broken?", len(keys))
	}
	for lang, cat := range catalogues {
		for name, k := range keys {
			if _, ok := cat[k]; !ok {
				t.Errorf("%s: no text for %s (%q)", lang, name, k)
			}
		}
		if len(cat) != len(keys) {
			t.Errorf("%s: %d strings for %d keys: a string has no declared key", lang, len(cat), len(keys))
		}
	}
	for name, k := range keys {
		if en, zh := verbs(english[k]), verbs(chinese[k]); !slices.Equal(en, zh) {
			t.Errorf("%s: English takes %v, Chinese %v", name, en, zh)
		}
	}
	var code strings.Builder
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasPrefix(f, "text_") || strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		code.Write(b)
	}
	for name := range keys {
		if !regexp.MustCompile(`\b` + name + `\b`).MatchString(code.String()) {
			t.Errorf("%s is in the catalogues but the page never draws it", name)
		}
	}
}

// verb matches a formatting verb with its explicit argument index, if any.
var verb = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// verbs lists a string's arguments as "index:verb", sorted, so that a translation may take
// them in another order ("%[2]d ... %[1]d") but must take the same ones.
func verbs(s string) []string {
	var out []string
	next := 1
	for _, m := range verb.FindAllStringSubmatch(s, -1) {
		v := m[0]
		if strings.HasSuffix(v, "%%") || v == "%%" {
			continue
		}
		if m[1] != "" {
			n := 0
			for _, c := range strings.Trim(m[1], "[]") {
				n = 10*n + int(c-'0')
			}
			next = n
		}
		out = append(out, string(rune('0'+next))+":"+v[len(v)-1:])
		next++
	}
	slices.Sort(out)
	return out
}

// asciiWords are runs of Latin letters in a Chinese string.
var asciiWords = regexp.MustCompile(`[A-Za-z][A-Za-z0-9.@_-]*`)

// allowedInChinese are the words a Chinese reader sees as they are: names of technologies and
// formats, file and command names, and the settings' own values.
var allowedInChinese = map[string]bool{
	"CIFAR-10": true, "Go": true, "TensorFlow": true, "WebAssembly": true, "SIMD": true, "Web": true, "Worker": true,
	"IndexedDB": true, "SharedArrayBuffer": true, "Chrome": true, "Edge": true, "Firefox": true, "Safari": true,
	"PNG": true, "JPEG": true, "MB": true, "GB": true, "top-1": true, "Adam": true, "auto": true, "lang": true, "en": true, "zh": true,
	"e-3": true, "has_trained": true, "True": true, "cifar10": true, "train": true, "train-dir": true,
	"navigator.storage.estimate": true,
}

// TestChineseHasNoEnglish: the Chinese catalogue's words in Latin letters are only names from
// allowedInChinese (and format verbs), so a string left untranslated fails here.
func TestChineseHasNoEnglish(t *testing.T) {
	for k, s := range chinese {
		s = verb.ReplaceAllString(s, " ")
		for _, w := range asciiWords.FindAllString(s, -1) {
			if !allowedInChinese[strings.TrimRight(w, ".")] {
				t.Errorf("%s: %q has the Latin word %q", k, chinese[k], w)
			}
		}
	}
}

func TestChooseLang(t *testing.T) {
	tests := []struct {
		query   string
		browser []string
		want    Lang
		bad     bool
	}{
		{"", nil, English, false},
		{"zh", []string{"en-US"}, Chinese, false},
		{"en", []string{"zh-CN"}, English, false},
		{"", []string{"zh-CN", "en"}, Chinese, false},
		{"", []string{"fr-FR", "zh-TW", "en"}, Chinese, false},
		{"", []string{"fr-FR", "de"}, English, false},
		{"xx", []string{"zh"}, Chinese, true},
	}
	for _, tc := range tests {
		got, bad := ChooseLang(tc.query, tc.browser)
		if got != tc.want || bad != tc.bad {
			t.Errorf("ChooseLang(%q, %q) = %s, %v; want %s, %v", tc.query, tc.browser, got, bad, tc.want, tc.bad)
		}
	}
}

// TestTranslatedFormats: durations, class names and the date are written for the language.
func TestTranslatedFormats(t *testing.T) {
	defer SetLang(English)
	SetLang(Chinese)
	if got := Duration(185); got != "3分05秒" {
		t.Errorf("Duration in Chinese: %q", got)
	}
	if got := translateClass("automobile"); got != "汽车" {
		t.Errorf("automobile in Chinese: %q", got)
	}
	if got := translateClass("red-plain"); got != "red-plain" {
		t.Errorf("a data set's own class name changed: %q", got)
	}
	if got := savedTime(0); !strings.Contains(got, "月") || !strings.Contains(got, "日") {
		t.Errorf("a date in Chinese: %q", got)
	}
	SetLang(English)
	if got := Duration(185); got != "3m 05s" {
		t.Errorf("Duration in English: %q", got)
	}
}
