package seedlog

import "testing"

// TestLine pins the seed script's log line, character for character.
func TestLine(t *testing.T) {
	for _, c := range []struct {
		step     int64
		loss     float32
		eps, spb float64
		want     string
	}{
		{120, 2.3456, 227.84, 0.56178, "Step 120, loss = 2.35 (227.8 examples/sec; 0.562 sec/batch)"},
		{0, 4.6789, 1280.04, 0.1, "Step 0, loss = 4.68 (1280.0 examples/sec; 0.100 sec/batch)"},
		{999990, 0.5, 12.34, 10.25, "Step 999990, loss = 0.50 (12.3 examples/sec; 10.250 sec/batch)"},
	} {
		if got := Line(c.step, c.loss, c.eps, c.spb); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

// TestPrecision pins the evaluation's last line.
func TestPrecision(t *testing.T) {
	for _, c := range []struct {
		p    float64
		want string
	}{
		{0.61234, "precision: 0.6123"},
		{1, "precision: 1.0000"},
		{0, "precision: 0.0000"},
	} {
		if got := Precision(c.p); got != c.want {
			t.Errorf("Precision(%v) = %q, want %q", c.p, got, c.want)
		}
	}
}

// TestRecipeLines pins the lines of test-time augmentation and of the periodic evaluation.
func TestRecipeLines(t *testing.T) {
	if got, want := PrecisionWith("flip+translate", 0.91234), "precision with flip+translate: 0.9123"; got != want {
		t.Errorf("PrecisionWith = %q, want %q", got, want)
	}
	if got, want := SlicePrecision(480, 2000, 0.8), "Step 480, precision: 0.8000 (2000 test images)"; got != want {
		t.Errorf("SlicePrecision = %q, want %q", got, want)
	}
}
