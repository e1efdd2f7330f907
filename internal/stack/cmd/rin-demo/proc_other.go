//go:build !linux

package main

import "syscall"

// childAttr: without a parent-death signal outside Linux, an interrupted
// demo relies on its own cleanup (SIGTERM through the command's context).
func childAttr() *syscall.SysProcAttr { return nil }
