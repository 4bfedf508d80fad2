package app

// serviceWorkerJS replaces go-app's app-worker.js (app.Handler.ServiceWorkerTemplate), whose
// cache-first fetch runs a kept version until a second reload after an update, and whose
// cache misses every address with a query (?steps=20&lang=zh). This one:
//
//   - keeps every file of one build (the page, app.js, both wasm binaries as served, the
//     scripts, styles and icons) in a cache named after the build's version, filled all at
//     once at install, and deletes older versions' caches once it takes over;
//   - answers from the network while the server is up, so the next load after an update runs
//     the new build, page and worker alike, and only when the network fails from that cache:
//     the page, whatever its query, is the cached "/"; a file from the cache is marked with
//     the header below, which the page reads to say that it runs offline;
//   - never caches the dataset (/data/: the workers keep it in IndexedDB) or anything else.
//
// {{.Version}} and {{.ResourcesToCache}} are filled in by go-app.
const serviceWorkerJS = `// The app's service worker (app/serviceworker.go): network first, the build's cache offline.
const cacheName = "app-" + "{{.Version}}";
const resourcesToCache = {{.ResourcesToCache}};
const offlineHeader = "` + OfflineHeader + `";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(cacheName);
    await cache.addAll(resourcesToCache);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key !== cacheName) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/data/")) {
    return; // the browser's own handling: the dataset and anything not ours
  }
  event.respondWith(networkFirst(req, url));
});

async function networkFirst(req, url) {
  try {
    return await fetch(req);
  } catch (err) {
    const cache = await caches.open(cacheName);
    const key = req.mode === "navigate" ? "/" : url.pathname;
    const hit = await cache.match(key, { ignoreSearch: req.mode === "navigate" });
    if (!hit) throw err;
    const headers = new Headers(hit.headers);
    headers.set(offlineHeader, cacheName);
    return new Response(hit.body, { status: hit.status, statusText: hit.statusText, headers });
  }
}
`

// OfflineHeader marks a response the service worker took from its cache because the server
// could not be reached; its value is the cache's name ("app-" and the build's version).
const OfflineHeader = "X-Cifar10-Offline"
