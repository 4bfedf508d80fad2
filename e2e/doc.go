//go:build !js

// Package e2e tests the CIFAR-10 trainer end to end: the real server binary serving the real
// wasm builds and a small synthetic dataset, driven by headless Chromium through chromedp.
//
// # Running
//
//	export GOTOOLCHAIN=go1.27.4
//	go test -count=1 -v ./e2e/                 # everything
//	go test -count=1 -v -run Smoke ./e2e/      # one test
//
// Without Chromium (/usr/lib/chromium/chromium, or chromium on PATH) the browser tests skip,
// or fail when the environment variable CI is set; `make deps` installs it.
//
// # What the harness builds and writes
//
// Once per `go test` run, into a temporary folder removed at the end, and only when a test
// asks for it (the go build cache keeps reruns to a few seconds of linking):
//   - bin/server:       go build ./server
//   - web/app.wasm:     GOOS=js GOARCH=wasm go build ./cmd/page
//   - web/worker.wasm:  GOOS=js GOARCH=wasm GOEXPERIMENT=simd go build ./cmd/worker
//   - web/*.wasm.gz:    gzip twins, so the server's precompressed path is the one exercised
//     (no brotli twins: compressing 13 MB at brotli's levels costs more than the test)
//   - data/cifar-10-batches-bin/: a synthetic CIFAR-10 set in the official binary layout
//     (SyntheticTrainPerFile records per training file, SyntheticTest test records), with
//     class-dependent colours and patterns plus noise, so a few training steps lower the loss.
//
// A build error fails every test that needs the build, with the go command's output.
//
// # Writing a test
//
//	func TestSomething(t *testing.T) {
//		ctx := NewBrowser(t)                 // headless Chromium, fresh profile, 60 s deadline
//		srv := StartServer(t)                // child server on a free loopback port
//		Open(t, ctx, srv.URL+"/")            // navigate and wait for #client-ready
//		if n := Eval[int](t, ctx, `document.querySelectorAll("button").length`); n == 0 { ... }
//		got := Text(t, ctx, "#status")       // textContent, waiting for the element
//		Screenshot(t, ctx, "something")      // artifacts/something.png
//		WaitConsole(t, ctx, "worker ready", 10*time.Second) // page or worker console
//		if srv.Requests("/data/") != 6 { ... } // requests seen in the server's log
//	}
//
// Call NewBrowser before StartServer so a machine without Chromium skips before building.
// "Second visit" and "reload" tests share a profile between two browsers: create it with
// NewProfile, pass Profile(dir) to both NewBrowser calls, and CloseBrowser the first one
// before opening the second (Chromium locks its profile and flushes IndexedDB on close).
//
// # Output
//
// Screenshots land in <repo>/artifacts/<name>.png (git-ignored). When a test fails, the
// harness logs the console messages, uncaught exceptions and browser log entries of the page,
// its Web Workers and go-app's service worker, and saves artifacts/<Test>-failure.png,
// artifacts/<Test>-server.log and artifacts/<Test>-chromium.log.
//
// Tests in this package share one build, one dataset and the machine's two cores: do not mark
// them parallel.
package e2e
