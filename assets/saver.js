// Checkpoint saver: a Web Worker that writes the training workers' checkpoint files to
// IndexedDB for them (wasm/saver_js.go). Storing 12.8 MB with put() blocks the calling thread
// for 85-150 ms (the value is serialized and wrapped on the spot); done by the leading training
// worker, that stalled every worker of a run every 10 steps. Here the file arrives transferred
// (no copy) and the training worker goes on at once.
//
// The page makes one saver and hands each training worker a MessagePort to it. A request is
// one read-write transaction with strict durability, as the training worker would write it:
//   {id, db, version, store, puts: [[key, value, length], ...], deletes: [key, ...]}
// An ArrayBuffer value longer than length (>= 0) is stored cut to length: the worker fills the
// same buffer for every checkpoint, and their sizes differ by a few bytes. The answer, once
// the transaction has committed or aborted, is {id, buffers} or {id, error: {name, message},
// buffers} (a full quota aborts with name "QuotaExceededError"), buffers being the request's
// ArrayBuffers, given back.
"use strict";

let opening = null; // a promise of the open database

function database(name, version) {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(name, version);
      req.onsuccess = () => {
        const db = req.result;
        db.onversionchange = () => { // let a newer page upgrade the database
          db.close();
          opening = null;
        };
        resolve(db);
      };
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error("the database is held open by an older version of this page"));
    });
    opening.catch(() => { opening = null; });
  }
  return opening;
}

async function write(m) {
  const db = await database(m.db, m.version);
  const tx = db.transaction(m.store, "readwrite", { durability: "strict" });
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
  try {
    const store = tx.objectStore(m.store);
    for (const [key, value, length] of m.puts) {
      const cut = value instanceof ArrayBuffer && length >= 0 && value.byteLength > length;
      store.put(cut ? value.slice(0, length) : value, key);
    }
    for (const key of m.deletes) store.delete(key);
  } catch (err) { // nothing of a request that failed half way is kept
    done.catch(() => {});
    tx.abort();
    throw err;
  }
  await done;
}

// serve answers a training worker's requests. The files' ArrayBuffers go back with the
// answer (put() copied them already), so the worker fills the same memory next time instead of
// a fresh 12.8 MB, whose first-touch page faults cost ten times the copy.
function serve(port) {
  port.onmessage = async (e) => {
    const m = e.data;
    const buffers = m.puts.map((p) => p[1]).filter((v) => v instanceof ArrayBuffer);
    let error;
    try {
      await write(m);
    } catch (err) {
      const name = err && err.name ? String(err.name) : "Error";
      const message = err && err.message ? String(err.message) : String(err);
      error = { name, message };
    }
    port.postMessage({ id: m.id, error, buffers }, buffers);
  };
}

// The page sends {port}: a training worker's end of a channel to this saver.
self.onmessage = (e) => {
  if (e.data && e.data.port) serve(e.data.port);
};

// The page connects the training workers once the saver runs.
self.postMessage({ ready: true });
