// Package logsink hands log lines to a writer from one goroutine. Under load the lines
// written while a write is in progress go out together in the next one: one system call for
// many requests' access-log lines instead of one each (measured in issue 8's note).
//
// A line is written as soon as the goroutine runs, so at low load nothing waits. What a
// SIGKILL or an unrecovered panic loses is what is pending at that instant, which is never more
// than the lines written since the last write began. Close writes what is pending; main calls
// it before the process exits.
package logsink

import (
	"io"
	"sync"
)

// maxPending is how many bytes may wait: a writer that cannot keep up (a stalled pipe) makes
// Write wait, as it would without the sink, rather than grow memory without bound.
const maxPending = 1 << 20

// Writer is an io.Writer that coalesces writes to out. Write never fails: an error of out is
// dropped, as a logger has nowhere to report it.
type Writer struct {
	out io.Writer

	mu      sync.Mutex
	room    sync.Cond // signalled when pending is written
	pending []byte
	spare   []byte
	closed  bool // Close has begun: new lines go straight to out once run is done
	drained bool // run has written everything and returned

	wake chan struct{}
	done chan struct{}
}

// New starts a Writer writing to out.
func New(out io.Writer) *Writer {
	w := &Writer{out: out, wake: make(chan struct{}, 1), done: make(chan struct{})}
	w.room.L = &w.mu
	go w.run()
	return w
}

// Write queues p, a copy of it: the caller may reuse p at once.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	for len(w.pending) > 0 && len(w.pending)+len(p) > maxPending && !w.closed {
		w.room.Wait()
	}
	if w.closed {
		for !w.drained { // after what was pending, in order
			w.room.Wait()
		}
		w.mu.Unlock()
		return w.out.Write(p)
	}
	w.pending = append(w.pending, p...)
	select { // under the lock, so that Close cannot close wake in between
	case w.wake <- struct{}{}:
	default: // already woken: this line goes with the next write
	}
	w.mu.Unlock()
	return len(p), nil
}

func (w *Writer) run() {
	defer func() {
		w.mu.Lock()
		w.drained = true
		w.room.Broadcast()
		w.mu.Unlock()
		close(w.done)
	}()
	for range w.wake {
		w.mu.Lock()
		for len(w.pending) > 0 {
			b := w.pending
			w.pending, w.spare = w.spare[:0], nil
			w.mu.Unlock()
			w.out.Write(b)
			w.mu.Lock()
			if cap(b) <= maxPending { // a buffer a huge line grew is let go
				w.spare = b[:0]
			}
			w.room.Broadcast()
		}
		w.mu.Unlock()
	}
}

// Close writes what is pending and stops the goroutine; later writes go straight to out. It
// does not wait for others to stop logging.
func (w *Writer) Close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		w.room.Broadcast() // writers held by a full buffer go straight through, after the drain
		close(w.wake)      // run writes what is still pending, then returns
	}
	w.mu.Unlock()
	<-w.done
}
