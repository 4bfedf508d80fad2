//go:build js && wasm

package worker

import (
	"errors"
	"fmt"
	"io"
	"syscall/js"

	"cifar10/nn/cifar"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// When the page is cross-origin isolated, the dataset lives once, in a SharedArrayBuffer, for
// every worker: the worker that loads it checks each file in place and copies it there as it
// is (the training files in order, then the test file: records of a label and 3,072 pixel
// bytes), and keeps only the labels in Go memory. Training and evaluation copy out the few
// images they need (nn/cifar's Sampler.Example). The page passes the buffer on to the other
// workers (shareDataset), so N workers cost one dataset, not N.

// sharedLoader loads the dataset into shared memory for engine e.
type sharedLoader struct {
	e   *Engine
	sab js.Value // the buffer of the last load, until it is sent to the page
}

// load is the engine's LoadFunc in shared mode.
func (l *sharedLoader) load(reload bool, progress func(protocol.DatasetProgress)) (*cifar.Data, protocol.DatasetInfo, error) {
	var pixels *sharedPixels
	var copied []files
	build := func(f files) (*cifar.Data, protocol.DatasetInfo, error) {
		data, info, p, err := assembleShared(f)
		pixels = p
		copied = append(copied, f)
		return data, info, err
	}
	data, info, err := loadWith(build, reload, progress)
	for _, f := range copied {
		release(f)
	}
	if err == nil {
		l.e.pixels, l.sab = pixels, pixels.sab
	}
	return data, info, err
}

// release frees the files' memory now (ArrayBuffer.transfer(0) detaches a buffer and drops
// its bytes) instead of at the worker's next garbage collection, which may come long after:
// they are 184 MB, and the shared copy is what the workers use.
func release(f files) {
	for _, b := range f.bins {
		buf := b
		if b.InstanceOf(js.Global().Get("Uint8Array")) {
			buf = b.Get("buffer")
		}
		if buf.Type() == js.TypeObject && buf.Get("transfer").Type() == js.TypeFunction {
			buf.Call("transfer", 0)
		}
	}
}

// send posts m, with the dataset's shared buffer when m reports the dataset this worker loaded,
// and with the worker's life lock when m says it is ready.
func (l *sharedLoader) send(port *wasm.Port, m protocol.Message) error {
	if ready, ok := m.Payload.(protocol.Ready); ok {
		if lock := js.Global().Get("lifeLock"); lock.Type() == js.TypeString {
			ready.Lock = lock.String() // assets/worker.js took it
			m.Payload = ready
		}
	}
	if m.Kind() == protocol.KindDataset && !l.sab.IsUndefined() {
		sab := l.sab
		l.sab = js.Undefined()
		return port.SendShared(m, sab)
	}
	return port.Send(m)
}

// assembleShared checks every file in place and copies it into a new SharedArrayBuffer.
func assembleShared(f files) (*cifar.Data, protocol.DatasetInfo, *sharedPixels, error) {
	var all int
	for _, name := range BinFiles() {
		all += f.bins[name].Get("byteLength").Int()
	}
	sab, err := wasm.NewShared(all)
	if err != nil {
		return nil, protocol.DatasetInfo{}, nil, err
	}
	u8 := js.Global().Get("Uint8Array").New(sab)
	data := &cifar.Data{Train: &cifar.Set{}, Test: &cifar.Set{}}
	p := &sharedPixels{sab: sab, u8: u8}
	off := 0
	for _, name := range BinFiles() {
		src := f.bins[name]
		n := src.Get("byteLength").Int()
		labels, err := cifar.Check(name, &jsReader{src: src}, int64(n))
		if err != nil {
			return nil, protocol.DatasetInfo{}, nil, err
		}
		u8.Call("set", src, off)
		if name == cifar.TestFile {
			data.Test.Labels, p.test = labels, off
		} else {
			data.Train.Labels = append(data.Train.Labels, labels...)
		}
		off += n
	}
	var meta []byte
	if !f.meta.IsUndefined() {
		meta = wasm.BytesFromJS(nil, f.meta)
	}
	b := &builder{}
	if err := b.meta(meta); err != nil {
		return nil, protocol.DatasetInfo{}, nil, err
	}
	data.ClassNames = b.names
	info := protocol.DatasetInfo{Train: data.Train.Len(), Test: data.Test.Len(), ClassNames: data.ClassNames, Bytes: int64(all)}
	return data, info, p, nil
}

// openShared takes the dataset another worker put in shared memory: it reads the labels (and
// checks the records again, which costs a fraction of a second) and leaves the pixels there.
func openShared(v any, info protocol.DatasetInfo) (*cifar.Data, Pixels, error) {
	sab, ok := v.(js.Value)
	if !ok || !v.(js.Value).InstanceOf(js.Global().Get("SharedArrayBuffer")) {
		return nil, nil, errors.New("the shared dataset did not arrive")
	}
	u8 := js.Global().Get("Uint8Array").New(sab)
	train, test := info.Train*cifar.RecordSize, info.Test*cifar.RecordSize
	if train <= 0 || test <= 0 || u8.Length() != train+test {
		return nil, nil, fmt.Errorf("the shared dataset has %d bytes, not %d training and %d test images", u8.Length(), info.Train, info.Test)
	}
	data := &cifar.Data{Train: &cifar.Set{}, Test: &cifar.Set{}, ClassNames: info.ClassNames}
	var err error
	if data.Train.Labels, err = cifar.Check("the training set", &jsReader{src: u8.Call("subarray", 0, train)}, int64(train)); err != nil {
		return nil, nil, err
	}
	if data.Test.Labels, err = cifar.Check(cifar.TestFile, &jsReader{src: u8.Call("subarray", train)}, int64(test)); err != nil {
		return nil, nil, err
	}
	return data, &sharedPixels{sab: sab, u8: u8, test: train}, nil
}

// sharedPixels reads images out of the shared dataset.
type sharedPixels struct {
	sab, u8 js.Value
	test    int // byte offset of the test file
}

// Train copies training image i's pixels into buf.
func (p *sharedPixels) Train(i int, buf []byte) []byte { return p.image(i*cifar.RecordSize, buf) }

// Test copies test image i's pixels into buf.
func (p *sharedPixels) Test(i int, buf []byte) []byte {
	return p.image(p.test+i*cifar.RecordSize, buf)
}

func (p *sharedPixels) image(record int, buf []byte) []byte {
	if cap(buf) < cifar.ImageBytes {
		buf = make([]byte, cifar.ImageBytes)
	}
	buf = buf[:cifar.ImageBytes]
	js.CopyBytesToGo(buf, p.u8.Call("subarray", record+1, record+cifar.RecordSize))
	return buf
}

// jsReader reads a Uint8Array.
type jsReader struct {
	src js.Value
	off int
}

func (r *jsReader) Read(p []byte) (int, error) {
	n := min(len(p), r.src.Length()-r.off)
	if n <= 0 {
		return 0, io.EOF
	}
	js.CopyBytesToGo(p[:n], r.src.Call("subarray", r.off, r.off+n))
	r.off += n
	return n, nil
}

// sharedMemory opens the SharedArrayBuffers the page sends.
func sharedMemory() SharedMemory {
	return SharedMemory{
		Board: func(v any, l wasm.BoardLayout) (Board, error) {
			jv, ok := v.(js.Value)
			if !ok {
				return nil, errors.New("the run's shared memory did not arrive")
			}
			return wasm.OpenBoard(jv, l)
		},
		Data: openShared,
	}
}
