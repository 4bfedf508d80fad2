package app

import (
	"errors"
	"math"
	"net/url"
	"strconv"

	"cifar10/wasm/protocol"
)

// Query keys of the settings. The page's URL carries them, so a run can be shared and
// reproduced from its link, as TensorFlow Playground does.
const (
	QueryPreset    = "preset"
	QuerySteps     = "steps"
	QueryBatch     = "batch"
	QueryLR        = "lr"
	QuerySeed      = "seed"
	QuerySaveEvery = "save_every"
	QueryKeep      = "keep"
	QueryWorkers   = "workers"
	// QueryEvalEvery and QueryEvalImages are precision over time: every so many steps, on
	// the first so many test images (0: off).
	QueryEvalEvery  = "eval_every"
	QueryEvalImages = "eval_images"
)

// WorkersAuto is how the workers setting reads when it is 0: one worker per core.
const WorkersAuto = "auto"

// settingKeys lists the query keys in the order they are read and shown.
var settingKeys = []string{QueryPreset, QuerySteps, QueryBatch, QueryLR, QuerySeed, QuerySaveEvery, QueryKeep, QueryWorkers,
	QueryEvalEvery, QueryEvalImages}

// ParseQuery reads settings from a URL query, starting from the defaults. A value that does
// not parse or is out of range is ignored with a note saying so (the page shows the notes),
// never silently replaced. lrSet tells whether the query chose the learning rate; if not, the
// preset's default applies once the worker has listed the presets.
func ParseQuery(q url.Values) (s protocol.Settings, lrSet bool, notes []string) {
	s = protocol.DefaultSettings()
	for _, key := range settingKeys {
		v := q.Get(key)
		if v == "" {
			continue
		}
		if err := ParseSetting(&s, key, v); err != nil {
			notes = append(notes, T(msgIgnoredSetting, key, v, err))
			continue
		}
		lrSet = lrSet || key == QueryLR
	}
	return s, lrSet, notes
}

// ParseSetting sets one setting from its text, or says what was expected. The controls and
// the address use it alike, so a value typed in a field is also valid in a shared link.
func ParseSetting(s *protocol.Settings, key, text string) error {
	integer := func(dst *int, lo, hi int, meaning string) error {
		n, err := strconv.Atoi(text)
		if err != nil || n < lo || n > hi {
			return errors.New(T(msgExpectedRange, meaning, lo, hi))
		}
		*dst = n
		return nil
	}
	switch key {
	case QueryPreset:
		t := *s
		t.Preset = text
		if t.Validate() != nil {
			return errors.New(T(msgNotPreset))
		}
		s.Preset = text
	case QuerySteps:
		return integer(&s.Steps, 1, protocol.MaxSteps, T(msgMeaningSteps))
	case QueryBatch:
		return integer(&s.Batch, 1, protocol.MaxBatch, T(msgMeaningBatch))
	case QuerySaveEvery:
		return integer(&s.SaveEvery, 0, protocol.MaxSteps, T(msgMeaningSaveEvery))
	case QueryKeep:
		return integer(&s.Keep, 1, protocol.MaxKeep, T(msgMeaningKeep))
	case QueryEvalEvery:
		return integer(&s.EvalEvery, 0, protocol.MaxSteps, T(msgMeaningEvalEvery))
	case QueryEvalImages:
		return integer(&s.EvalImages, 0, protocol.MaxEvalImages, T(msgMeaningEvalImages))
	case QueryWorkers:
		if text == WorkersAuto {
			s.Workers = 0
			return nil
		}
		return integer(&s.Workers, 1, protocol.MaxWorkers, T(msgMeaningWorkers))
	case QueryLR:
		lr, err := ParseLR(text)
		if err != nil {
			return err
		}
		s.LR = lr
	case QuerySeed:
		seed, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return errors.New(T(msgExpectedSeed, uint64(math.MaxUint64)))
		}
		s.Seed = seed
	default:
		return errors.New(T(msgUnknownSetting, key))
	}
	return nil
}

// ParseLR reads a learning rate such as 0.001 or 1e-3.
func ParseLR(v string) (float64, error) {
	lr, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(lr) || math.IsInf(lr, 0) || lr <= 0 || lr > 10 {
		return 0, errors.New(T(msgExpectedLR))
	}
	return lr, nil
}

// Query writes every setting into a URL query, in a fixed order of keys (url.Values.Encode
// sorts them), so equal settings give equal links.
func Query(s protocol.Settings) url.Values {
	return url.Values{
		QueryPreset:     {s.Preset},
		QuerySteps:      {strconv.Itoa(s.Steps)},
		QueryBatch:      {strconv.Itoa(s.Batch)},
		QueryLR:         {FormatLR(s.LR)},
		QuerySeed:       {strconv.FormatUint(s.Seed, 10)},
		QuerySaveEvery:  {strconv.Itoa(s.SaveEvery)},
		QueryKeep:       {strconv.Itoa(s.Keep)},
		QueryWorkers:    {FormatWorkers(s.Workers)},
		QueryEvalEvery:  {strconv.Itoa(s.EvalEvery)},
		QueryEvalImages: {strconv.Itoa(s.EvalImages)},
	}
}

// FormatWorkers writes the workers setting: a number, or "auto" for one per core.
func FormatWorkers(n int) string {
	if n == 0 {
		return WorkersAuto
	}
	return strconv.Itoa(n)
}

// FormatLR writes a learning rate in the shortest form that reads back exactly.
func FormatLR(lr float64) string {
	return strconv.FormatFloat(lr, 'g', -1, 64)
}
