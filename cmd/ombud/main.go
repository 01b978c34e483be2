// Command ombud is the complaint assistant: it serves consumers and agents,
// and gives policy owners tools to check and explain issuer policies.
//
// This package only parses the command line and the environment and wires
// the other packages together; the rules live in policies, the words in
// locales.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &Env{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
		Now:    time.Now,
	}
	code := Run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}
