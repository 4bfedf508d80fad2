package app

import (
	"fmt"
	"strconv"
	"strings"
)

// Thousands writes n with comma separators, as the spec writes 1,068,298.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// MB writes a byte count in megabytes (10^6, as download sizes are usually given).
func MB(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// Bytes writes a byte count in megabytes, or gigabytes from 10^9 on (storage quotas).
func Bytes(n int64) string {
	if n >= 1e9 {
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	}
	return MB(n)
}

// Duration writes seconds as 45s, 3m 05s or 2h 07m (in Chinese 45秒, 3分05秒, 2小时07分); a
// negative value is unknown.
func Duration(sec float64) string {
	if sec < 0 {
		return "–"
	}
	s := int64(sec + 0.5)
	switch {
	case s < 60:
		return T(msgSeconds, s)
	case s < 3600:
		return T(msgMinutes, s/60, s%60)
	default:
		return T(msgHours, s/3600, s/60%60)
	}
}

// Decimal writes x with prec decimals, in the page's language (both write 0.5 alike today;
// this is the one place to change if one did not).
func Decimal(x float64, prec int) string {
	return strconv.FormatFloat(x, 'f', prec, 64)
}

// officialClasses are CIFAR-10's class names (cifar.ClassNames) with their catalogue keys.
var officialClasses = map[string]Key{
	"airplane": msgClassAirplane, "automobile": msgClassAutomobile, "bird": msgClassBird,
	"cat": msgClassCat, "deer": msgClassDeer, "dog": msgClassDog, "frog": msgClassFrog,
	"horse": msgClassHorse, "ship": msgClassShip, "truck": msgClassTruck,
}

// translateClass is a class name in the page's language: CIFAR-10's official names are translated,
// other data sets' names come from their batches.meta.txt and are shown as written.
func translateClass(name string) string {
	if k, ok := officialClasses[name]; ok {
		return T(k)
	}
	return name
}

// translateClasses translates each name with translateClass.
func translateClasses(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = translateClass(n)
	}
	return out
}

// Shape writes a layer's output shape like 24×24×64, or 384 for a dense layer.
func Shape(s [3]int) string {
	if s[0] == 1 && s[1] == 1 {
		return strconv.Itoa(s[2])
	}
	return fmt.Sprintf("%d×%d×%d", s[0], s[1], s[2])
}

// Percent is 100*part/whole with no decimals, 0 when whole is unknown.
func Percent(part, whole int64) int {
	if whole <= 0 {
		return 0
	}
	return int(100 * part / whole)
}

// FullFloat writes a float32 with the fewest digits that read back to the same bits, for data
// attributes that tests compare exactly.
func FullFloat(x float32) string {
	return strconv.FormatFloat(float64(x), 'g', -1, 32)
}

// FormatLoss writes a loss with four decimals, or with four significant digits when it is
// too large for that to fit (a diverging run).
func FormatLoss(x float32) string {
	if x >= 1e4 || x <= -1e4 {
		return strconv.FormatFloat(float64(x), 'g', 4, 32)
	}
	return strconv.FormatFloat(float64(x), 'f', 4, 32)
}

// endSentence is text as a sentence: a capital letter first, the language's full stop last.
func endSentence(text string) string { return Sentence(text) + T(msgPeriod) }

// Sentence starts text with a capital letter, for messages that come from Go errors.
func Sentence(text string) string {
	for i, r := range text {
		return strings.ToUpper(string(r)) + text[i+len(string(r)):]
	}
	return text
}

// choose returns yes when cond holds, else no: for class names and optional text in Render.
func choose[V any](cond bool, yes, no V) V {
	if cond {
		return yes
	}
	return no
}
