package app

import (
	"errors"

	"cifar10/wasm"
	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Home's side of the checkpoints: the page reads the list from IndexedDB itself and deletes
// and downloads there; restores and uploads go to the worker, which owns the models.

// checkpointHandlers are the checkpoints panel's actions.
func (h *Home) checkpointHandlers() map[string]app.ActionHandler {
	return map[string]app.ActionHandler{
		actionCkptRestore: h.onRestore(false), actionCkptResume: h.onRestore(true),
		actionCkptDownload: h.onDownload, actionCkptDelete: h.onDelete, actionCkptUpload: h.onUpload,
	}
}

// openCheckpoints reads the list of kept checkpoints, asks the browser to keep the page's
// storage (persistent storage), and reads the storage estimate.
func (h *Home) openCheckpoints(ctx app.Context) {
	ctx.Async(func() {
		db, err := wasm.OpenCheckpointDB()
		var list []protocol.CheckpointInfo
		if err == nil {
			list, err = db.List()
		}
		ctx.Dispatch(func(ctx app.Context) {
			h.ckdb = db
			h.store.SetCheckpoints(list, err)
		})
		wasm.PersistStorage() // a refusal is visible in the storage line
		h.refreshStorage(ctx)
	})
}

// refreshStorage updates the storage estimate (after a save, a deletion, an upload).
func (h *Home) refreshStorage(ctx app.Context) {
	ctx.Async(func() {
		st, err := wasm.StorageEstimate()
		if err != nil {
			return
		}
		ctx.Dispatch(func(ctx app.Context) { h.store.SetStorage(st) })
	})
}

// afterReceive does what a worker report calls for beyond the store: a new checkpoint
// changes the storage used.
func (h *Home) afterReceive(ctx app.Context, in wasm.Inbound) {
	if in.Err == nil && in.Msg.Kind() == protocol.KindCheckpoint {
		h.refreshStorage(ctx)
	}
	h.afterInside(ctx, in)
}

// onRestore restores (resume false) or resumes from the checkpoint whose id is the value.
func (h *Home) onRestore(resume bool) app.ActionHandler {
	return func(ctx app.Context, a app.Action) {
		id, _ := a.Value.(string)
		c, ok := h.store.Checkpoints.Find(id)
		if !ok {
			return
		}
		can, _ := h.store.CanRestore()
		if resume {
			can, _ = h.store.CanResume(c)
		}
		if !can {
			return
		}
		h.send(h.store.RestoreCheckpoint(id, resume))
		ctx.Update()
	}
}

func (h *Home) onDownload(ctx app.Context, a app.Action) {
	id, _ := a.Value.(string)
	db := h.ckdb
	if db == nil {
		return
	}
	ctx.Async(func() {
		if err := db.Download(id); err != nil {
			ctx.Dispatch(func(ctx app.Context) { h.store.notify(protocol.WhereCheckpoint, err.Error()) })
		}
	})
}

func (h *Home) onDelete(ctx app.Context, a app.Action) {
	id, _ := a.Value.(string)
	db := h.ckdb
	if db == nil {
		return
	}
	ctx.Async(func() {
		err := db.Delete(id)
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				h.store.notify(protocol.WhereCheckpoint, err.Error())
				return
			}
			h.store.RemoveCheckpoints(id)
		})
		h.refreshStorage(ctx)
	})
}

// onUpload sends the chosen file to the worker, which checks it and stores it, or says in one
// sentence why not.
func (h *Home) onUpload(ctx app.Context, a app.Action) {
	if h.port == nil || h.store.Checkpoints.Uploading != "" {
		return
	}
	h.store.Checkpoints.Uploading = T(msgTheFile)
	port, preset := h.port, h.store.Settings.Preset
	ctx.Async(func() {
		name, err := port.UploadFromInput(CkptUploadID, preset)
		ctx.Dispatch(func(ctx app.Context) {
			c := &h.store.Checkpoints
			switch {
			case err != nil:
				c.Uploading = ""
				if name == "" || errors.Is(err, wasm.ErrNotInBrowser) {
					err = errors.New(T(msgUploadFailed, err))
				}
				h.store.notify(protocol.WhereCheckpoint, err.Error())
			case c.Uploading != "":
				c.Uploading = name // the worker has not answered yet
			}
		})
	})
}

// checkpointsPanel is the panel with its part of the store.
func (h *Home) checkpointsPanel() app.UI {
	s := h.store
	can, why := s.CanRestore()
	return &CheckpointsPanel{View: s.Checkpoints, CanRestore: can, Why: why, MaxSteps: s.Settings.Steps,
		SaveEvery: s.Settings.SaveEvery, Offer: s.ResumeOffer()}
}
