// Package stack runs the local AWS stack that rin's tests, demo and
// benchmarks share: a throwaway PostgreSQL cluster, the Redshift simulator
// (package redshiftsim) in front of it, goaws as the SQS emulator and gofakes3
// as the S3 emulator.
//
// Everything listens on 127.0.0.1 (goaws binds 0.0.0.0 and cannot be told
// otherwise, but every client talks to 127.0.0.1). Child processes
// (postgres, goaws) are started with a parent-death signal so a killed test
// binary does not leak them, and Close/Stop leave no process behind.
//
// A separate rin process reaches the stack through standard AWS settings only
// (see Stack.Env): AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_S3, static keys and
// a region. The emulators are imperfect; the quirks rin must tolerate (or that
// tests must not rely on) are documented on the SQS and S3 types.
//
// For rin's Lambda mode, Lambda runs a function under the AWS Lambda runtime
// interface emulator (one per simulated execution environment, built like
// goaws), and ESM plays the event source mapping in
// front of it: receive a batch from goaws, invoke, delete by Lambda's rules
// for partial batch responses (Judge). Neither is part of Start: a test
// starts them for the function it runs.
//
// # Which emulators are requirements of rin's module
//
// None. This package, its subpackages, the end-to-end tests (e2e) and the dev
// tools (cmd/rin-stack, cmd/rin-demo) are a module of their own,
// internal/stack/go.mod, which requires rin's with a replace to the checkout
// (Go's internal rule lets it import rin's internal packages). That go.mod
// alone requires gofakes3 (S3) and parquet-go (the simulator's COPY of
// Parquet files, the tests' Parquet objects), which run in the test process,
// and pins goaws and the Lambda runtime interface emulator with tool
// directives: they run as child processes, built there on first use into the
// cache dir ($RIN_STACK_CACHE, else the user cache dir's "rin"; $RIN_GOAWS_BIN
// and $RIN_RIE_BIN name prebuilt binaries instead; see proc.ToolBinary).
//
// rin's module never imports this module, not even from tests, or the
// emulators would come back as its requirements. What its tests need of the
// stack is in rin's module without them: the S3 event bodies and goaws-backed
// SQS (internal/localaws, which this package re-exports), and the whole stack
// run as a rin-stack process built from this module and steered through its
// control endpoints (internal/stackproc). .ci/run checks that rin's go.mod
// names no emulator and that go list -deps of . and ./cmd/rin-journal names
// none.
package stack
