package wasm

// Storage is what the browser says about the page's storage.
type Storage struct {
	Usage      int64 `json:"usage"` // bytes stored by the page (all kinds)
	Quota      int64 `json:"quota"` // bytes it may store
	Persistent bool  `json:"persistent"`
}

// MaxUpload bounds an uploaded checkpoint file. The largest file of these models (weights
// and two Adam slots each) is a few tens of megabytes; reading a larger file whole into the
// tab's memory would only fail later.
const MaxUpload = 256 << 20
