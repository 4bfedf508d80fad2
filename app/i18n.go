package app

import (
	"fmt"
	"strings"
)

// The page speaks English or Simplified Chinese. Every sentence, label and help line it draws
// comes from one catalogue per language (text_en.go, text_zh.go), looked up by a typed Key;
// TestCatalogues checks that both catalogues have exactly the keys declared here and that
// every key is used. To add a string: declare a Key below (or next to its panel), add it to
// both catalogues, and draw it with T(key, args...). The seed script's log line stays English
// in both languages: it is the script's output, not the page's.

// Lang is a language of the page, as written in the address (lang=zh).
type Lang string

// The page's languages.
const (
	English Lang = "en"
	Chinese Lang = "zh"
)

// QueryLang is the address's key for the language, beside the run's settings.
const QueryLang = "lang"

// Langs lists the languages in the order the language switch shows them.
var Langs = []Lang{English, Chinese}

// Key names one string of the catalogues. Its value is the catalogue key, so a missing
// translation shows as its key rather than as nothing.
type Key string

// catalogues maps each language to its strings.
var catalogues = map[Lang]map[Key]string{English: english, Chinese: chinese}

// lang is the page's language: set once from the address or the browser when the page
// starts (SetLang), and English while the server prerenders.
var lang = English

// SetLang makes l the language of everything drawn from now on; an unknown l means English.
func SetLang(l Lang) {
	if _, ok := catalogues[l]; !ok {
		l = English
	}
	lang = l
}

// CurrentLang is the page's language.
func CurrentLang() Lang { return lang }

// T returns key's text in the page's language, formatted with args as fmt.Sprintf does.
func T(key Key, args ...any) string { return key.In(lang, args...) }

// In returns key's text in language l, formatted with args.
func (k Key) In(l Lang, args ...any) string {
	s, ok := catalogues[l][k]
	if !ok {
		s, ok = english[k]
	}
	if !ok {
		return string(k)
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// ChooseLang picks the page's language: the address's lang= when it names one, else the
// first of the browser's languages (navigator.languages) that the page speaks, else English.
// badQuery reports a lang= that names no language, for a note like a bad setting's.
func ChooseLang(query string, browser []string) (l Lang, badQuery bool) {
	if query != "" {
		if _, ok := catalogues[Lang(query)]; ok {
			return Lang(query), false
		}
		badQuery = true
	}
	for _, b := range browser {
		base, _, _ := strings.Cut(strings.ToLower(b), "-")
		if _, ok := catalogues[Lang(base)]; ok {
			return Lang(base), badQuery
		}
	}
	return English, badQuery
}
