package app

import (
	"time"

	"cifar10/wasm"
	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Home's side of the views inside the network: the actions, and the pull that keeps them
// live while training: the page asks the leader, and asks again InsideInterval after each
// answer, so the views never cost more than one forward pass of one image a second.

// insideHandlers are the views' and the precision chart's actions.
func (h *Home) insideHandlers() map[string]app.ActionHandler {
	return map[string]app.ActionHandler{
		actionInsideToggle: func(ctx app.Context, a app.Action) {
			open, _ := a.Value.(bool)
			m, pic, ok := h.store.ShowInside(open)
			if ok {
				h.sendInspect(m, pic)
			}
			ctx.Update()
		},
		actionLookAt: func(ctx app.Context, a app.Action) {
			i, ok := a.Value.(int)
			if !ok {
				return
			}
			h.store.Inside.Open = true
			if m, pic, ok := h.store.LookAt(i); ok {
				h.sendInspect(m, pic)
			}
			ctx.Update()
		},
		actionEvalCheckpoints: func(ctx app.Context, a app.Action) {
			if m, ok := h.store.EvalCheckpoints(); ok {
				h.send(m)
				ctx.Update()
			}
		},
	}
}

// sendInspect sends an inspect request, with one's own picture when it has one.
func (h *Home) sendInspect(m protocol.Message, picture []byte) {
	if picture == nil {
		h.send(m)
		return
	}
	if h.port == nil {
		h.store.Inside.Pending = false
		return
	}
	if err := h.port.Send(m, picture); err != nil {
		h.store.Inside.Pending = false
		h.store.notify(protocol.WherePredict, err.Error())
	}
}

// inspect asks for the views now, if they are open and nothing is asked already.
func (h *Home) inspect() {
	if m, pic, ok := h.store.Inspect(); ok {
		h.sendInspect(m, pic)
	}
}

// afterInside keeps the views live: after an answer while training, it asks again in
// InsideInterval; a run that changes phase (starts, pauses, ends, is restored) is looked at
// once at once.
func (h *Home) afterInside(ctx app.Context, in wasm.Inbound) {
	if in.Err != nil || !h.store.Inside.Open {
		return
	}
	switch in.Msg.Kind() {
	case protocol.KindInside:
		if h.store.Run.Phase == protocol.PhaseRunning && !h.insideTimer {
			h.insideTimer = true
			ctx.After(InsideInterval*time.Millisecond, func(ctx app.Context) {
				h.insideTimer = false
				h.inspect()
			})
		}
	case protocol.KindState:
		h.inspect()
	}
}
