package nn

// TTA is a level of test-time augmentation: the model also sees transformed copies of each
// test image and its prediction is the weighted mean of their logits (airbench's tta_level).
type TTA int

// TTA levels. Each includes the ones before it, and an evaluation at a level reports every
// level up to it (EvaluateViews), so the plain figure always comes with the augmented one.
const (
	TTANone          TTA = iota // the image alone
	TTAFlip                     // 1/2 the image + 1/2 its mirror image
	TTAFlipTranslate            // 1/2 the flip level + 1/4 each of the flip level shifted one pixel up-left and down-right
)

// String names the level for logs and reports.
func (l TTA) String() string {
	switch l {
	case TTANone:
		return "plain"
	case TTAFlip:
		return "flip"
	case TTAFlipTranslate:
		return "flip+translate"
	}
	return "tta?"
}
