// Package logtest holds what tests need to read the logs of code that
// logs from several goroutines.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer is a log sink that goroutines may write at once while a test
// reads it. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *Buffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// String returns everything written so far.
func (w *Buffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
