package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/lambdamode"
)

// inLambda tells whether rin was started by a Lambda runtime: the runtime
// API's address is then in the environment (what aws-lambda-go reads too).
func inLambda(getenv func(string) string) bool {
	return getenv("AWS_LAMBDA_RUNTIME_API") != ""
}

// serveLambda serves the Lambda runtime API until the runtime ends the
// process: lambda.Start returns only by exiting. Everything built here
// lasts the execution environment's life and is shared by its invocations:
// the config (RIN_CONFIG, an s3:// URL as a rule, as for the original
// Rin), the AWS clients and the Copier with its connection pool. Each
// invocation then runs its own engine (package lambdamode). rin needs no
// SQS access here: the event source mapping polls and deletes.
func (c *RunCommand) serveLambda(ctx context.Context, log *slog.Logger) error {
	opts, err := lambdamode.OptionsFromEnv(c.Getenv)
	if err != nil {
		return err
	}
	// No queue_name needed: the event source mapping names the queue (an
	// original Rin config that has one still loads).
	cfg, ac, err := loadConfig(ctx, c.ConfigPath, log, config.WithQueueOptional())
	if err != nil {
		return err
	}
	if cfg.Overwrites == config.OverwritesSkip {
		log.Warn("overwrites: skip relies on the journal, which lives one invocation in Lambda: two versions of a key delivered to different invocations both load; use overwrites: load (docs/lambda.md)")
	}
	copier, closeCopier := newCopier(cfg, ac, log)
	defer closeCopier()
	opts.Logger = log
	h := lambdamode.New(cfg, copier, opts)
	log.Info("rin Lambda function ready", "version", Version, "config", cfg.Source, "targets", len(cfg.Targets), "poison", opts.Poison)
	lambda.StartWithOptions(h.Handle, lambda.WithContext(ctx))
	return errors.New("lambda runtime loop returned")
}
