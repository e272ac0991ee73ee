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
func (p *Process) PeakRSS() (int64, error) { return p.statusBytes("VmHWM") }

// statusBytes returns a size field of /proc/PID/status ("VmHWM: 1024 kB"),
// in bytes.
func (p *Process) statusBytes(field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, fmt.Errorf("failed to read the status of %s: %w", p.Name, err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("failed to parse %s of %s: %w", field, p.Name, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no %s in the status of %s", field, p.Name)
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

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go supports.
const userHZ = 100

// CPUTime returns the CPU time, user and system, that the process (all its
// threads) has used so far, from /proc/PID/stat. It needs Linux and a
// process still running.
func (p *Process) CPUTime() (time.Duration, error) {
	d, err := PidCPUTime(p.Pid())
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p.Name, err)
	}
	return d, nil
}

// PidCPUTime returns the CPU time, user and system, that the process pid
// (all its threads) has used so far, from /proc/PID/stat.
func PidCPUTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("failed to read the stat of process %d: %w", pid, err)
	}
	// The command name, in parentheses, may hold spaces: fields count from
	// the last parenthesis, which is followed by field 3 (state).
	_, rest, ok := strings.Cut(string(data), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return 0, fmt.Errorf("unexpected stat of process %d", pid)
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime and stime, fields 14 and 15
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected stat of process %d: %w", pid, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// MachineCPU is a reading of the machine's CPU counters, to tell how busy
// the machine was between two readings.
type MachineCPU struct{ busy, total int64 }

// ReadMachineCPU reads the aggregate line of /proc/stat.
func ReadMachineCPU() (MachineCPU, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return MachineCPU{}, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return MachineCPU{}, fmt.Errorf("unexpected /proc/stat")
	}
	var m MachineCPU
	// user nice system idle iowait irq softirq steal; guest time is
	// already part of user time.
	for i, f := range fields[1:min(len(fields), 9)] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return MachineCPU{}, fmt.Errorf("unexpected /proc/stat: %w", err)
		}
		m.total += v
		if i != 3 && i != 4 { // idle and iowait
			m.busy += v
		}
	}
	return m, nil
}

// BusySince returns the fraction of the machine's CPU time that was busy
// between an earlier reading and this one.
func (m MachineCPU) BusySince(earlier MachineCPU) float64 {
	if m.total <= earlier.total {
		return 0
	}
	return float64(m.busy-earlier.busy) / float64(m.total-earlier.total)
}

// RSSAnon returns the process's resident anonymous memory in bytes (RssAnon
// in /proc/PID/status): the part of its resident set that the kernel cannot
// drop under a cgroup's memory pressure, unlike the clean pages of the
// mapped binary.
func (p *Process) RSSAnon() (int64, error) { return p.statusBytes("RssAnon") }
