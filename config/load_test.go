package config

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	readme := fixture(t, "readme.yaml")
	abs, err := filepath.Abs("testdata/readme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/config.yaml" {
			http.NotFound(w, r)
			return
		}
		w.Write(readme)
	}))
	defer srv.Close()
	getter := WithS3Getter(func(_ context.Context, bucket, key string) ([]byte, error) {
		if bucket == "conf-bucket" && key == "rin/config.yaml" {
			return readme, nil
		}
		return nil, errors.New("NoSuchKey")
	})
	hostport := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		location   string
		wantSource string
		wantErr    error
	}{
		{"testdata/readme.yaml", "testdata/readme.yaml", nil},
		{"file://" + abs, abs, nil},
		{"file://testdata/readme.yaml", "testdata/readme.yaml", nil},
		{srv.URL + "/config.yaml", srv.URL + "/config.yaml", nil},
		{"http://user:secret@" + hostport + "/config.yaml?X-Amz-Signature=sig", srv.URL + "/config.yaml", nil},
		{"s3://conf-bucket/rin/config.yaml", "s3://conf-bucket/rin/config.yaml", nil},
		{srv.URL + "/missing.yaml", "", ErrLocation},
		{"s3://conf-bucket/missing.yaml", "", ErrLocation},
		{"s3://conf-bucket", "", ErrLocation},
		{"testdata/nope.yaml", "", ErrLocation},
		{"ftp://x/y", "", ErrLocation},
		{"", "", ErrLocation},
	}
	for _, tt := range tests {
		t.Run(tt.location, func(t *testing.T) {
			c, err := Load(t.Context(), tt.location, getter, noEnv)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "sig") {
					t.Errorf("error leaks URL secrets: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Source != tt.wantSource {
				t.Errorf("Source = %q, want %q", c.Source, tt.wantSource)
			}
			if c.QueueName != "my_queue_name" || len(c.Targets) != 3 {
				t.Errorf("loaded %+v", c)
			}
		})
	}

	if _, err := Load(t.Context(), "s3://conf-bucket/rin/config.yaml", noEnv); !errors.Is(err, ErrLocation) || !strings.Contains(err.Error(), "S3 getter") {
		t.Errorf("s3 without getter: %v", err)
	}
	// A failing URL must not leak credentials either.
	_, err = Load(t.Context(), "http://user:secret@127.0.0.1:1/c.yaml?sig=abc", noEnv)
	if !errors.Is(err, ErrLocation) || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "abc") {
		t.Errorf("unreachable URL: %v", err)
	}
}

func TestLoadTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, make([]byte, 17<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(t.Context(), p, noEnv); !errors.Is(err, ErrLocation) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("%v", err)
	}
}
