// Command cases-emulator serves the Amazon Connect Cases emulator over HTTP.
// Its first line on stdout is "listening on http://HOST:PORT"; logs go to
// stderr; SIGTERM or SIGINT stops it gracefully. See docs/emulator.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// main runs the emulator until SIGTERM or SIGINT.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cases-emulator:", err)
		}
		os.Exit(1)
	}
}

// run serves the emulator until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if cfg.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opts, err := options(cfg, log)
	if err != nil {
		return err
	}
	srv, err := emulator.New(opts)
	if err != nil {
		return fmt.Errorf("failed to configure the emulator: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("failed to listen on %s: %w", cfg.listen, err)
	}
	if _, err := fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr()); err != nil {
		_ = ln.Close()
		return fmt.Errorf("failed to announce the address: %w", err)
	}
	conns := newConnTracker()
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState:         conns.track,
	}
	log.Info("Serving Connect Cases emulator", "address", ln.Addr().String(), "region", cfg.region,
		"domains", len(srv.State().Domains), "faults", len(opts.Faults))
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("failed to serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("Shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	// Shutdown waits up to 5s for connections that never sent a request;
	// they have nothing to finish, so they are closed first.
	conns.closeUnused()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("failed to shut down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("failed to serve: %w", err)
	}
	log.Info("Stopped")
	return nil
}

// options turns the command line into emulator options. The command-line
// principal may do everything, unless the seed defines the same access key:
// then the seed's permissions stand, and the secrets must agree.
func options(cfg *config, log *slog.Logger) (emulator.Options, error) {
	opts := emulator.Options{
		Region: cfg.region, AccountID: cfg.accountID, Quotas: cfg.quotas, Faults: cfg.faults,
		RandomSeed: cfg.randomSeed, GetCasePageSize: cfg.pageSize, Logger: log,
	}
	if cfg.seedPath != "" {
		seed, err := emulator.LoadSeed(cfg.seedPath)
		if err != nil {
			return opts, err
		}
		opts.Seed = seed
	}
	if cfg.accessKeyID != "" {
		inSeed := false
		if opts.Seed != nil {
			for _, p := range opts.Seed.Principals {
				if p.AccessKeyID != cfg.accessKeyID {
					continue
				}
				if p.SecretAccessKey != cfg.secretAccessKey {
					return opts, fmt.Errorf("access key %q is in the seed with another secret", cfg.accessKeyID)
				}
				inSeed = true
				log.Info("The seed defines the command-line access key; its permissions apply")
			}
		}
		if !inSeed {
			opts.Principals = []emulator.Principal{{AccessKeyID: cfg.accessKeyID, SecretAccessKey: cfg.secretAccessKey,
				Actions: []string{"*"}, Domains: []string{"*"}}}
		}
	}
	if len(opts.Principals) == 0 && (opts.Seed == nil || len(opts.Seed.Principals) == 0) {
		return opts, errors.New("no principals: give --access-key-id and --secret-access-key, or principals in the seed")
	}
	return opts, nil
}
