package wasm

import (
	"sync"

	"cifar10/wasm/protocol"
)

// Inbound is one received message with the bytes of its attached buffers (Files[i] is named by
// Msg.Files[i]). Err is set instead when the envelope was unreadable or the other side failed
// (the worker script did not load, an uncaught exception): the receiver shows it to the user.
type Inbound struct {
	Msg   protocol.Message
	Files [][]byte
	Err   error
	// Fatal marks an Err after which the other side is gone (the worker crashed or never
	// started), as opposed to one unreadable message.
	Fatal bool
	// Shared is the SharedArrayBuffer sent with the message (a run's board, the dataset), as
	// a js.Value, or nil. It is shared memory, not a copy (see SendShared).
	Shared any
}

// queue keeps received messages in order without ever blocking the JavaScript callback that
// adds them (a blocked callback would deadlock Go's wasm), and hands them out on one channel.
type queue struct {
	mu      sync.Mutex
	pending []Inbound
	wake    chan struct{} // holds a token while pending may be non-empty
	out     chan Inbound
}

func newQueue() *queue {
	q := &queue{wake: make(chan struct{}, 1), out: make(chan Inbound)}
	go q.pump()
	return q
}

// add appends in; it never blocks.
func (q *queue) add(in Inbound) {
	q.mu.Lock()
	q.pending = append(q.pending, in)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pump delivers pending messages in order to out.
func (q *queue) pump() {
	for range q.wake {
		for {
			q.mu.Lock()
			if len(q.pending) == 0 {
				q.mu.Unlock()
				break
			}
			in := q.pending[0]
			q.pending[0] = Inbound{}
			q.pending = q.pending[1:]
			q.mu.Unlock()
			q.out <- in
		}
	}
}
