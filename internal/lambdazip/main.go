// Command lambdazip packs a Lambda bootstrap into a deployment zip:
//
//	go run ./internal/lambdazip -o rin-lambda-arm64.zip bin/lambda/arm64/bootstrap
//
// The zip holds one entry, "bootstrap", executable (Lambda runs the file
// with the permissions the zip records), with a fixed timestamp so the same
// binary always gives the same zip. It exists so that `make lambda` needs
// only Go, not a zip tool.
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	out := flag.String("o", "", "the zip to write")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: lambdazip -o FILE.zip BOOTSTRAP")
		os.Exit(2)
	}
	if err := pack(*out, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "lambdazip:", err)
		os.Exit(1)
	}
}

// pack writes zipPath with bootstrap as its only entry, mode 0755.
func pack(zipPath, bootstrap string) (err error) {
	in, err := os.Open(bootstrap)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.Create(zipPath)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(zipPath)
		}
	}()
	zw := zip.NewWriter(f)
	// A fixed modification time keeps builds reproducible; zip cannot store
	// times before 1980.
	epoch := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: epoch}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("%s: %w", zipPath, err)
	}
	if _, err := io.Copy(w, in); err != nil {
		return fmt.Errorf("%s: %w", zipPath, err)
	}
	return zw.Close()
}
