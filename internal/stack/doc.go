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
// goaws and the Lambda runtime interface emulator run as child processes, so
// they are pinned with tool directives in a module of their own,
// internal/tools/go.mod, and built there on first use into the cache dir
// ($RIN_STACK_CACHE, else the user cache dir's "rin"; $RIN_GOAWS_BIN and
// $RIN_RIE_BIN name prebuilt binaries instead). Neither they nor their
// dependencies (chi, gorilla, logrus, testify, ...) are in rin's go.mod.
//
// gofakes3 (S3) and parquet-go (the Redshift simulator's COPY of Parquet
// files, and the tests' Parquet objects) stay requirements of rin's module:
// they run inside the test process, which the tests rely on — the
// simulator's fault injection, gofakes3's backend shared with the
// simulator's COPY, objects and rows inspected in memory. Moving them out
// would mean running S3 and the simulator as separate processes. Only this
// package, its subpackages, the tests and the dev tools (cmd/rin-stack,
// cmd/rin-demo) import them, never the product: go list -deps of . and
// ./cmd/rin-journal names neither (.ci/run checks it).
package stack
