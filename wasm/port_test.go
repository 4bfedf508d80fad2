package wasm

import (
	"sync"
	"testing"
	"time"

	"cifar10/wasm/protocol"
)

// TestQueueOrder checks that messages come out in the order they were added, from several
// goroutines at once, and that add never blocks even when nobody reads yet.
func TestQueueOrder(t *testing.T) {
	q := newQueue()
	const n = 2000
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				q.add(Inbound{Msg: protocol.Message{Payload: protocol.Progress{}, Worker: w, Run: i}})
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("add blocked with no reader")
	}
	next := make([]int, 4)
	for i := 0; i < 4*n; i++ {
		in := <-q.out
		if w := in.Msg.Worker; in.Msg.Run != next[w] {
			t.Fatalf("worker %d: got message %d, want %d", w, in.Msg.Run, next[w])
		}
		next[in.Msg.Worker]++
	}
}
