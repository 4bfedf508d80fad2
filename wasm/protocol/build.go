package protocol

// Build identifies the build a wasm binary comes from. `make web` and the e2e harness set it
// in both binaries at once (go build -ldflags "-X cifar10/wasm/protocol.Build=<id>", the id a
// hash of the sources), so the page and its training workers can tell whether they come from
// the same build: a browser that kept one binary from an older version (a cache, an update
// midway) would otherwise run a page and a worker that disagree on the messages between them.
// A binary built without the flag says "dev".
var Build = "dev"

// BuildVar is the linker name of Build, for -ldflags "-X BuildVar=<id>".
const BuildVar = "cifar10/wasm/protocol.Build"
