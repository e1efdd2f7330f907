//go:build !unix

package main

import (
	"errors"
	"os"
)

func lockFile(string) (func(), error) {
	return nil, errors.New("compact -replace is not supported on this platform; rename the compacted file yourself")
}

func chownLike(string, os.FileInfo) error { return nil }
