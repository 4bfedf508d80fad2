package app

import (
	"net/url"
	"strings"
	"testing"

	"cifar10/wasm/protocol"
)

func TestParseQueryDefaults(t *testing.T) {
	s, lrSet, notes := ParseQuery(url.Values{})
	if s != protocol.DefaultSettings() || lrSet || len(notes) != 0 {
		t.Errorf("empty query: %+v %v %v", s, lrSet, notes)
	}
	if s.Steps != 1000 || s.Batch != 128 || s.LR != 1e-3 || s.Preset != "cifar10" || s.SaveEvery != 10 || s.Keep != 5 {
		t.Errorf("defaults are not the seed script's: %+v", s)
	}
}

func TestParseQuery(t *testing.T) {
	q, _ := url.ParseQuery("preset=cs231n&steps=20&batch=16&lr=1e-2&seed=18446744073709551615&save_every=0&keep=3&workers=3&eval_every=50&eval_images=2000")
	s, lrSet, notes := ParseQuery(q)
	want := protocol.Settings{Preset: "cs231n", Steps: 20, Batch: 16, LR: 0.01, Seed: 18446744073709551615, SaveEvery: 0, Keep: 3, Workers: 3, EvalEvery: 50, EvalImages: 2000}
	if s != want || !lrSet || len(notes) != 0 {
		t.Errorf("got %+v lrSet %v notes %v", s, lrSet, notes)
	}
	// Query writes what ParseQuery reads.
	back, _, _ := ParseQuery(Query(s))
	if back != s {
		t.Errorf("round trip %+v -> %s -> %+v", s, Query(s).Encode(), back)
	}
}

func TestParseQueryBadValues(t *testing.T) {
	q, _ := url.ParseQuery("steps=abc&batch=0&lr=-1&seed=-3&keep=99999&preset=../x&save_every=1.5&workers=17&eval_every=-1&eval_images=10001")
	s, lrSet, notes := ParseQuery(q)
	if s != protocol.DefaultSettings() || lrSet {
		t.Errorf("bad values changed the settings: %+v", s)
	}
	if len(notes) != 10 {
		t.Fatalf("notes %q", notes)
	}
	all := strings.Join(notes, "\n")
	for _, want := range []string{`ignored steps="abc"`, "a whole number of steps from 1 to", `batch="0"`, `lr="-1"`, "learning rate above 0", `seed="-3"`, `keep="99999"`, `preset="../x"`, `save_every="1.5"`, `workers="17"`, `eval_every="-1"`, `eval_images="10001"`} {
		if !strings.Contains(all, want) {
			t.Errorf("notes lack %q:\n%s", want, all)
		}
	}
}

func TestParseSetting(t *testing.T) {
	s := protocol.DefaultSettings()
	if err := ParseSetting(&s, QueryLR, "0.0005"); err != nil || s.LR != 0.0005 {
		t.Errorf("lr: %v %v", err, s.LR)
	}
	if err := ParseSetting(&s, QueryBatch, "2000"); err == nil || s.Batch != 128 {
		t.Errorf("batch over the limit: %v %v", err, s.Batch)
	}
	if err := ParseSetting(&s, "colour", "red"); err == nil {
		t.Error("unknown key accepted")
	}
	if FormatLR(0.001) != "0.001" || FormatLR(1e-7) != "1e-07" {
		t.Errorf("FormatLR: %s %s", FormatLR(0.001), FormatLR(1e-7))
	}
}

// TestWorkersSetting: "auto" (the default) is written as such in links and read back as 0
// (how many that makes is coord.Want's, wasm/coord).
func TestWorkersSetting(t *testing.T) {
	s := protocol.DefaultSettings()
	if Query(s).Get(QueryWorkers) != WorkersAuto {
		t.Errorf("default workers read %q", Query(s).Get(QueryWorkers))
	}
	if err := ParseSetting(&s, QueryWorkers, WorkersAuto); err != nil || s.Workers != 0 {
		t.Errorf("auto: %v %d", err, s.Workers)
	}
	if err := ParseSetting(&s, QueryWorkers, "0"); err == nil {
		t.Error("0 workers accepted")
	}
}
