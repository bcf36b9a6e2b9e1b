package logsink_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/logsink"
)

// recorder keeps each write it is given; gate, when set, holds every write until it is closed.
type recorder struct {
	mu     sync.Mutex
	writes []string
	gate   chan struct{}
	delay  time.Duration // each write takes this long
	err    error
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.gate != nil {
		<-r.gate
	}
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, string(p))
	return len(p), r.err
}

func (r *recorder) all() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.writes, ""), len(r.writes)
}

func TestEveryLineOnceInOrder(t *testing.T) {
	rec := &recorder{}
	w := logsink.New(rec)
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			buf := make([]byte, 0, 64)
			for i := range lines {
				buf = fmt.Appendf(buf[:0], "g%d line %d\n", g, i)
				if n, err := w.Write(buf); n != len(buf) || err != nil {
					t.Errorf("Write = %d, %v", n, err)
				}
				// buf is reused at once: the sink must have copied it.
			}
		})
	}
	wg.Wait()
	w.Close()
	out, _ := rec.all()
	next := make([]int, writers)
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var g, i int
		if _, err := fmt.Sscanf(l, "g%d line %d", &g, &i); err != nil {
			t.Fatalf("torn line %q: %v", l, err)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d after line %d", g, i, next[g]-1)
		}
		next[g]++
	}
	for g, n := range next {
		if n != lines {
			t.Errorf("writer %d: %d lines out, want %d", g, n, lines)
		}
	}
}

func TestLinesWrittenDuringAWriteGoOutTogether(t *testing.T) {
	rec := &recorder{gate: make(chan struct{})}
	w := logsink.New(rec)
	w.Write([]byte("first\n"))
	// The first write is now held in out (or about to be); what follows waits for it.
	time.Sleep(20 * time.Millisecond)
	for i := range 100 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	close(rec.gate)
	w.Close()
	out, writes := rec.all()
	if want := 101; strings.Count(out, "\n") != want {
		t.Fatalf("%d lines out, want %d", strings.Count(out, "\n"), want)
	}
	if writes > 2 {
		t.Errorf("101 lines took %d writes; the 100 written while the first was held should go in one", writes)
	}
}

func TestAStalledWriterHoldsBackWrites(t *testing.T) {
	rec := &recorder{gate: make(chan struct{})}
	w := logsink.New(rec)
	line := bytes.Repeat([]byte("x"), 64<<10)
	wrote := make(chan int, 100)
	go func() {
		for i := range 40 { // 2.5 MiB: more than may wait
			w.Write(line)
			wrote <- i
		}
		close(wrote)
	}()
	time.Sleep(100 * time.Millisecond)
	if n := len(wrote); n >= 39 {
		t.Fatalf("%d writes of 64 KiB returned while out was stalled; the sink should hold at most about 1 MiB", n+1)
	}
	close(rec.gate)
	for range wrote {
	}
	w.Close()
	if out, _ := rec.all(); len(out) != 40*len(line) {
		t.Fatalf("%d bytes out, want %d", len(out), 40*len(line))
	}
}

func TestCloseWritesPendingThenGoesStraightThrough(t *testing.T) {
	rec := &recorder{err: errors.New("disk full")}
	w := logsink.New(rec)
	w.Write([]byte("a\n"))
	w.Close()
	w.Write([]byte("b\n"))
	if out, _ := rec.all(); out != "a\nb\n" {
		t.Fatalf("out = %q", out)
	}
	w.Close() // a second Close is harmless
}

// Close returns, with what was written before it out, while another goroutine goes on logging
// (a handler still running when shutdown gives up on it).
func TestCloseDoesNotWaitForLoggingToStop(t *testing.T) {
	rec := &recorder{delay: time.Millisecond} // a slow stderr: lines are always pending
	w := logsink.New(rec)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				w.Write([]byte("busy\n"))
			}
		}
	})
	w.Write([]byte("before close\n"))
	returned := make(chan struct{})
	go func() {
		w.Close()
		if out, _ := rec.all(); !strings.Contains(out, "before close\n") {
			t.Error("Close returned before the line written before it was out")
		}
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(2 * time.Second):
		t.Fatal("Close still waiting after 2 s while another goroutine logs")
	}
	close(stop)
	wg.Wait()
}
