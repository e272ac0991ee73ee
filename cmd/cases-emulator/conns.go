package main

import (
	"net"
	"net/http"
	"sync"
)

// connTracker knows the connections that were accepted but have not sent a
// byte of a request yet. http.Server.Shutdown counts such a connection as
// active until it is 5 seconds old, so a client that opened one and never
// used it (a pool warming up, a probe) would hold the shutdown that long.
type connTracker struct {
	mu      sync.Mutex
	unused  map[net.Conn]struct{}
	closing bool
}

// newConnTracker returns an empty tracker.
func newConnTracker() *connTracker {
	return &connTracker{unused: map[net.Conn]struct{}{}}
}

// track is the server's ConnState hook. A connection is unused while it is
// new; the first byte of a request makes it active, and it is not tracked
// any more. Once closing, a new connection is closed at once.
func (t *connTracker) track(c net.Conn, state http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if state != http.StateNew {
		delete(t.unused, c)
		return
	}
	if t.closing {
		_ = c.Close()
		return
	}
	t.unused[c] = struct{}{}
}

// closeUnused closes the connections that never sent a request, and every
// new one from now on. Requests in flight and idle keep-alive connections
// are left to http.Server.Shutdown, which finishes the former and closes the
// latter at once.
func (t *connTracker) closeUnused() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
	for c := range t.unused {
		_ = c.Close()
		delete(t.unused, c)
	}
}
