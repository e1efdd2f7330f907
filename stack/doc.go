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
// interface emulator (one per simulated execution environment, built from
// the module cache like goaws), and ESM plays the event source mapping in
// front of it: receive a batch from goaws, invoke, delete by Lambda's rules
// for partial batch responses (Judge). Neither is part of Start: a test
// starts them for the function it runs.
package stack
