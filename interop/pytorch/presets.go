package pytorch

import (
	"encoding/json"
	"fmt"

	"cifar10/nn"
)

// PresetsFile is the file model.py reads the presets from, next to this package's Python.
const PresetsFile = "presets.json"

// PresetsJSON returns the contents of PresetsFile: every preset of nn as its nn.Spec JSON, by
// name. model.py builds its modules from these specs, so a preset is declared once, in nn.
func PresetsJSON() ([]byte, error) {
	specs := map[string]nn.Spec{}
	for _, name := range nn.PresetNames() {
		s, err := nn.Preset(name)
		if err != nil {
			return nil, err
		}
		specs[name] = s
	}
	b, err := json.MarshalIndent(specs, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("pytorch: cannot encode the presets: %w", err)
	}
	return append(b, '\n'), nil
}
