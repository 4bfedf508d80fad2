package app

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestSmooth(t *testing.T) {
	got := Smooth([]float32{4, 2, 2}, 0.5)
	// Debiased EMA: 4, (0.5*4*0.5+0.5*2)/(0.75), ...
	want := []float64{4, (0.5*0.5*4 + 0.5*2) / 0.75, (0.5*(0.5*0.5*4+0.5*2) + 0.5*2) / 0.875}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("point %d: %v, want %v", i, got[i], want[i])
		}
	}
	for _, v := range Smooth([]float32{3, 3, 3, 3}, 0.9) {
		if math.Abs(v-3) > 1e-12 {
			t.Errorf("a constant series smooths to %v", v)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	ticks, dec := niceTicks(1.43, 4.87, 5)
	if !reflect.DeepEqual(ticks, []float64{2, 3, 4}) || dec != 0 {
		// step 1 (raw 0.86 rounds up to 1)
		t.Errorf("ticks %v decimals %d", ticks, dec)
	}
	ticks, dec = niceTicks(2.21, 2.35, 5)
	if len(ticks) < 3 || dec != 2 {
		t.Errorf("ticks %v decimals %d", ticks, dec)
	}
	if ticks, _ := niceTicks(1, 1, 5); ticks != nil {
		t.Errorf("empty range gave %v", ticks)
	}
}

func TestBuildChart(t *testing.T) {
	c := buildChart([]float32{3, 2, 1}, 0, 20, 0.6)
	if n := len(strings.Fields(c.Raw)); n != 3 {
		t.Errorf("raw line has %d points: %s", n, c.Raw)
	}
	first := strings.Fields(c.Raw)[0]
	if !strings.HasPrefix(first, "48.0,") {
		t.Errorf("step 0 is not at the left edge: %s", first)
	}
	if last := c.XTicks[len(c.XTicks)-1]; last.Label != "15" {
		t.Errorf("x ticks %+v should reach toward step 19", c.XTicks)
	}
	long := make([]float32, 5000)
	for i := range long {
		long[i] = float32(5 - float64(i)/1000)
	}
	c = buildChart(long, 0, 5000, 0.6)
	if n := len(strings.Fields(c.Smooth)); n > chartMaxPoints+1 || n < chartMaxPoints/2 {
		t.Errorf("a long run draws %d points", n)
	}
	if !strings.HasSuffix(c.Raw, " "+strings.Fields(c.Raw)[len(strings.Fields(c.Raw))-1]) || !strings.Contains(c.Raw, "628.0,") {
		t.Errorf("the last step is not drawn at the right edge: ...%s", c.Raw[len(c.Raw)-40:])
	}
	if c := buildChart(nil, 0, 0, 0.6); c.Raw != "" || len(c.YTicks) != 0 {
		t.Errorf("empty chart %+v", c)
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1068298: "1,068,298", -50000: "-50,000"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %s", n, got)
		}
	}
	for s, want := range map[float64]string{-1: "–", 4.4: "4s", 65: "1m 05s", 7322: "2h 02m"} {
		if got := Duration(s); got != want {
			t.Errorf("Duration(%v) = %s, want %s", s, got, want)
		}
	}
	if Shape([3]int{24, 24, 64}) != "24×24×64" || Shape([3]int{1, 1, 384}) != "384" {
		t.Error("Shape")
	}
	if FormatLoss(2.30258) != "2.3026" || FormatLoss(5313508409344) != "5.314e+12" {
		t.Errorf("FormatLoss %s %s", FormatLoss(2.30258), FormatLoss(5313508409344))
	}
	if Sentence("the loss") != "The loss" || Sentence("") != "" {
		t.Error("Sentence")
	}
	if tickLabel(2e12, 0) != "2e+12" || tickLabel(2.5, 1) != "2.5" {
		t.Errorf("tick labels %s %s", tickLabel(2e12, 0), tickLabel(2.5, 1))
	}
	if FullFloat(2.3025851) != "2.3025851" {
		t.Errorf("FullFloat %s", FullFloat(2.3025851))
	}
}
