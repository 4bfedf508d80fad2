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

// Duration writes seconds as 45s, 3m 05s or 2h 07m; a negative value is unknown.
func Duration(sec float64) string {
	if sec < 0 {
		return "–"
	}
	s := int64(sec + 0.5)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm %02ds", s/60, s%60)
	default:
		return fmt.Sprintf("%dh %02dm", s/3600, s/60%60)
	}
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

// Sentence starts text with a capital letter, for messages that come from Go errors.
func Sentence(text string) string {
	for i, r := range text {
		return strings.ToUpper(string(r)) + text[i+len(string(r)):]
	}
	return text
}

// choose returns yes when cond holds, else no: for class names and optional text in Render.
func choose(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}
