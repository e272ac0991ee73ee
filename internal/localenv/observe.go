package localenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// ManagerEnvWithCredentials is ManagerEnv with other credentials: a second
// principal of the emulator's seed, so that its call records tell the
// managers apart.
func ManagerEnvWithCredentials(kubeconfig, url, accessKeyID, secretAccessKey string) []string {
	env := ManagerEnv(kubeconfig, url)
	for i, kv := range env {
		switch {
		case strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID="):
			env[i] = "AWS_ACCESS_KEY_ID=" + accessKeyID
		case strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY="):
			env[i] = "AWS_SECRET_ACCESS_KEY=" + secretAccessKey
		}
	}
	return env
}

// EmulatorCalls returns the emulator's call counts and its recent calls.
func EmulatorCalls(ctx context.Context, url string) (*emulator.CallStats, error) {
	var st emulator.CallStats
	if err := GetJSON(ctx, url+"/_emulator/calls", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// EmulatorCases returns the values of every case in the emulator, by domain
// id and case id.
func EmulatorCases(ctx context.Context, url string) (map[string]map[string]map[string]emulator.FieldValue, error) {
	var st emulator.State
	if err := GetJSON(ctx, url+"/_emulator/state", &st); err != nil {
		return nil, err
	}
	out := make(map[string]map[string]map[string]emulator.FieldValue, len(st.Domains))
	for _, d := range st.Domains {
		cases := make(map[string]map[string]emulator.FieldValue, len(d.Cases))
		for _, c := range d.Cases {
			cases[c.ID] = c.Fields
		}
		out[d.ID] = cases
	}
	return out, nil
}

// CallTotal sums the counts of an operation over its outcomes.
func CallTotal(st *emulator.CallStats, operation string) int {
	n := 0
	for _, c := range st.Counts[operation] {
		n += c
	}
	return n
}

// PeakRSS returns the process's peak resident set size in bytes (VmHWM in
// /proc/PID/status), which the kernel keeps for the process's lifetime. It
// needs Linux and a process still running.
func (p *Process) PeakRSS() (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, fmt.Errorf("failed to read the status of %s: %w", p.Name, err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("failed to parse VmHWM of %s: %w", p.Name, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no VmHWM in the status of %s", p.Name)
}

// WaitForLog polls the process's log until a line contains text, ctx ends
// or the process exits.
func (p *Process) WaitForLog(ctx context.Context, text string) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(p.Log); err == nil && strings.Contains(string(data), text) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not log %q: %w\n%s", p.Name, text, ctx.Err(), p.Tail(20))
		case <-p.Done():
			return fmt.Errorf("%s exited before logging %q:\n%s", p.Name, text, p.Tail(20))
		case <-tick.C:
		}
	}
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago, for a process flag that does not accept port 0 usefully.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
