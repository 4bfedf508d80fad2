// Bootstrap of the training Web Worker: runs web/worker.wasm (cmd/worker) with Go's
// wasm_exec.js. Messages that arrive before the Go program listens are queued in
// self.earlyMessages; the Go side delivers them first. If the Go program cannot start or exits,
// the page gets an error message in the protocol's envelope instead of silence.
"use strict";

importScripts("/wasm_exec.js");

self.earlyMessages = [];
const queueEarly = (e) => {
  if (self.earlyMessages) self.earlyMessages.push(e);
};
self.addEventListener("message", queueEarly);

// The last lines Go wrote (a panic's message and trace go to the console), for the error report.
const lastLines = [];
for (const level of ["log", "error", "warn"]) {
  const orig = console[level].bind(console);
  console[level] = (...args) => {
    lastLines.push(args.join(" "));
    if (lastLines.length > 8) lastLines.shift();
    orig(...args);
  };
}

function fail(message) {
  const msg = { kind: "error", payload: { where: "worker", message } }; // wasm/protocol's envelope
  self.postMessage({ json: JSON.stringify(msg), buffers: [] });
}

// The page learns that this worker is gone (terminated, crashed) when it can take this Web Lock,
// named after the worker: held from before the Go program starts until the worker ends.
const lockHeld = self.navigator.locks && self.name
  ? new Promise((held) => self.navigator.locks.request(self.name, () => {
    self.lifeLock = self.name; // the Go side names it in its ready message
    held();
    return new Promise(() => {});
  }))
  : Promise.resolve();

(async () => {
  const go = new Go();
  try {
    await lockHeld;
    const { instance } = await WebAssembly.instantiateStreaming(fetch("/web/worker.wasm"), go.importObject);
    self.removeEventListener("message", queueEarly);
    self.goMemory = instance.exports.mem; // the Go program's memory, for the console and tests
    await go.run(instance);
    fail("the training worker stopped: " + (lastLines.join("\n") || "exit"));
  } catch (err) {
    fail("the training worker could not start: " + err + (lastLines.length ? "\n" + lastLines.join("\n") : ""));
  }
})();
