// Package protocol is what the page and the training Web Workers say to each other: the
// message kinds, their payloads and how a message is encoded. It is plain Go with no
// syscall/js, so it builds for any GOOS and is tested natively, and it links nothing of the
// engine, so the page's wasm stays small. Package wasm moves the encoded messages over
// postMessage; package wasm/worker answers them.
//
// A message travels as a JavaScript object {json, buffers}: json is Encode's output, buffers
// are ArrayBuffers transferred (not copied) with it, named in order by Message.Files. Bulk
// bytes (dataset files, checkpoint files, pixels) therefore never go through JSON. The json is
//
//	{"kind": "start", "run": 3, "worker": 1, "workers": 2, "payload": {...}, "files": [...]}
//
// with the payload the registered type of its kind (payloads.go). Adding a message is one
// payload type with its Kind and Validate, registered once in payloads.go.
//
// Conversation (page -> worker, worker -> page):
//
//	worker: ready {presets}            once, when the worker's Go code runs
//	page:   load {reload}              fetch the dataset (from IndexedDB when kept there)
//	worker: datasetProgress* dataset   or error {where: "dataset"}
//	page:   start {settings} run=N     a new run replaces any earlier one
//	worker: state {running} progress* log* ... state {finished|stopped|failed}
//	page:   pause | resume | stop      run=N; answered by state
//	page:   eval                       at any time once a run has a model, also while paused
//	worker: evalProgress* evalResult   or error {where: "eval"}
//	worker: checkpoint {info, removed}  every SaveEvery steps, once stored in IndexedDB
//	page:   checkpointRestore {id} run=N  the stored checkpoint becomes run N (resumed or not)
//	worker: state {running|restored, settings}   or error {where: "checkpoint"}
//	page:   checkpointUpload {name} +file   checked in full, then stored
//	worker: checkpoint {info}          or error {where: "checkpoint"}: nothing stored
//	page:   testImages | classify +image   predictions for the evaluation view (predict.go)
//	worker: predictions +pixels | classified   or error {where: "predict"}
//
// With several workers (wasm/board.go, wasm/coord) the page talks as above to worker 0,
// the leader, and in addition:
//
//	page:   shareDataset {dataset} +SharedArrayBuffer   to the others, once worker 0 loaded it
//	worker: dataset
//	page:   start | checkpointRestore {worker, workers} +board   to every worker of the run
//	worker: evalProgress* evalResult   from every worker of the run, each for its part
//
// Every message names its run, so a late message of an earlier run is recognised and dropped.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"cifar10/nn/shard"
)

// Kind names a message's payload type on the wire ("start", "progress", ...).
type Kind string

// Payload is the content of a message: one type per Kind, registered in payloads.go.
type Payload interface {
	// Kind is the payload's message kind, the same for every value of the type.
	Kind() Kind
	// Validate reports a payload out of range, or whose attached files (the message's
	// Files) are not what it needs; its error does not repeat the kind.
	Validate(files []FileRef) error
}

// Message is the envelope of one payload between the page and a worker.
type Message struct {
	// Run identifies the training run the message belongs to (0: none). The page numbers its
	// runs; the worker echoes the number, so reports of a replaced run can be dropped.
	Run int
	// Worker is the index of the worker that sent or should receive the message, and Workers
	// the size of the group training run Run (start and restore messages; 0 means one worker
	// on its own). Worker 0 leads: it reports the run and saves its checkpoints.
	Worker  int
	Workers int
	// Payload is what the message says; its Kind is the message's.
	Payload Payload
	// Files names the buffers transferred with the message, in order.
	Files []FileRef
}

// FileRef names one attached buffer.
type FileRef struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

// MaxWorkers bounds the workers of a run: more than there are shards would only share
// evaluations, and each worker costs memory.
const MaxWorkers = shard.MaxShards

// Kind is the kind of the message's payload ("" when it has none).
func (m Message) Kind() Kind {
	if m.Payload == nil {
		return ""
	}
	return m.Payload.Kind()
}

// Validate reports a message without a registered payload, with a bad run, worker or
// attached file, or whose payload is invalid.
func (m Message) Validate() error {
	if m.Payload == nil {
		return errors.New("message without a payload")
	}
	k := m.Payload.Kind()
	if t, ok := registry[k]; !ok || t != reflect.TypeOf(m.Payload) {
		return fmt.Errorf("%s message: payload %T is not the registered type of its kind", k, m.Payload)
	}
	if m.Run < 0 || m.Worker < 0 {
		return fmt.Errorf("%s message: negative run or worker", k)
	}
	if m.Workers < 0 || m.Workers > MaxWorkers || (m.Workers > 0 && m.Worker >= m.Workers) {
		return fmt.Errorf("%s message: worker %d of %d", k, m.Worker, m.Workers)
	}
	for _, f := range m.Files {
		if f.Name == "" || f.Size < 0 {
			return fmt.Errorf("%s message: bad attached file %+v", k, f)
		}
	}
	if err := m.Payload.Validate(m.Files); err != nil {
		return fmt.Errorf("%s message: %w", k, err)
	}
	return nil
}

// wire is a message as JSON.
type wire struct {
	Kind    Kind            `json:"kind"`
	Run     int             `json:"run,omitempty"`
	Worker  int             `json:"worker,omitempty"`
	Workers int             `json:"workers,omitempty"`
	Payload json.RawMessage `json:"payload"`
	Files   []FileRef       `json:"files,omitempty"`
}

// Encode checks m and encodes it as the json part of the envelope.
func Encode(m Message) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	p, err := json.Marshal(m.Payload)
	if err != nil {
		return nil, fmt.Errorf("%s message: %w", m.Kind(), err)
	}
	return json.Marshal(wire{Kind: m.Kind(), Run: m.Run, Worker: m.Worker, Workers: m.Workers, Payload: p, Files: m.Files})
}

// Decode parses the json part of an envelope into the payload type registered for its kind
// and checks it, so that handlers can rely on what the payload says. Unknown kinds, missing
// payloads and payload fields of another type are refused.
func Decode(b []byte) (Message, error) {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return Message{}, fmt.Errorf("malformed message: %w", err)
	}
	t, ok := registry[w.Kind]
	if !ok {
		return Message{}, fmt.Errorf("unknown message kind %q", w.Kind)
	}
	if len(w.Payload) == 0 || string(w.Payload) == "null" {
		return Message{}, fmt.Errorf("%s message lacks its payload", w.Kind)
	}
	p := reflect.New(t)
	dec := json.NewDecoder(bytes.NewReader(w.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p.Interface()); err != nil {
		return Message{}, fmt.Errorf("%s message: malformed payload: %w", w.Kind, err)
	}
	m := Message{Run: w.Run, Worker: w.Worker, Workers: w.Workers, Payload: p.Elem().Interface().(Payload), Files: w.Files}
	if err := m.Validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// registry maps each kind to its payload type (a struct, never a pointer).
var registry = map[Kind]reflect.Type{}

// register adds payload types to the registry, by the kind of their zero values. Two types
// of one kind are a programming error.
func register(payloads ...Payload) {
	for _, p := range payloads {
		k, t := p.Kind(), reflect.TypeOf(p)
		if t.Kind() != reflect.Struct {
			panic(fmt.Sprintf("protocol: payload %v of %s is not a struct", t, k))
		}
		if old, dup := registry[k]; dup {
			panic(fmt.Sprintf("protocol: kind %s registered for %v and %v", k, old, t))
		}
		registry[k] = t
	}
}
