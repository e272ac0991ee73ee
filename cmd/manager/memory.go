package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// memoryLimitEnv names the environment variable that carries the
// container's memory limit in bytes when no cgroup limit can be read: the
// chart fills it from the Deployment's resources.limits.memory with the
// downward API, and the benchmarks set it to run the manager under a limit.
const memoryLimitEnv = "CONNECTCASES_MEMORY_LIMIT"

// memoryLimitFraction is the share of the container's memory limit that the
// Go runtime's soft limit takes: the rest is left for what the runtime does
// not count (thread stacks, binary, page cache), so that the kernel's OOM
// killer does not strike before the collector has worked harder.
const memoryLimitFraction = 0.9

// unlimited is a cgroup limit at or above which a cgroup means no limit: v1
// writes a page-rounded maximum int64 there, v2 writes "max".
const unlimited = 1 << 62

// memorySettings says where the runtime's soft memory limit came from, for
// the start-up log.
type memorySettings struct {
	// Limit is the soft limit set, in bytes; zero when none was set.
	Limit int64
	// Source is GOMEMLIMIT, the cgroup file read, the environment variable,
	// or "" when no limit was found.
	Source string
}

// cgroupRoot is where the cgroup file systems are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// applyMemoryLimit sets the soft memory limit from this process's cgroup
// and environment; main calls it before anything allocates much.
func applyMemoryLimit() (memorySettings, error) {
	self, _ := os.ReadFile("/proc/self/cgroup")
	return setMemoryLimit(cgroupRoot, string(self), os.Getenv)
}

// setMemoryLimit gives the Go runtime a soft memory limit of 90% of the
// container's memory limit, unless GOMEMLIMIT is set (the runtime then
// already obeys it). The collector runs at Go's default GOGC: the heap may
// double between collections while memory is plentiful, and the soft limit
// makes it collect sooner only when the container's limit comes near. The
// limit is the lowest of the cgroup's (v2 memory.max, or v1
// memory.limit_in_bytes) under root, for the cgroups listed in self (the
// text of /proc/self/cgroup), and CONNECTCASES_MEMORY_LIMIT.
func setMemoryLimit(root, self string, getenv func(string) string) (memorySettings, error) {
	if getenv("GOMEMLIMIT") != "" {
		return memorySettings{Limit: debug.SetMemoryLimit(-1), Source: "GOMEMLIMIT"}, nil
	}
	limit, source, err := containerMemoryLimit(root, self, getenv)
	if err != nil || limit == 0 {
		return memorySettings{}, err
	}
	soft := int64(float64(limit) * memoryLimitFraction)
	debug.SetMemoryLimit(soft)
	return memorySettings{Limit: soft, Source: source}, nil
}

// containerMemoryLimit returns the lowest memory limit among this
// process's cgroups and the environment variable, with where it was found;
// zero when there is none. The lowest counts: a cgroup's limit applies to
// everything below it, and the variable may state a container's limit that
// an enclosing cgroup does not show.
func containerMemoryLimit(root, self string, getenv func(string) string) (int64, string, error) {
	var (
		limit  int64
		source string
	)
	for _, file := range cgroupLimitFiles(root, self) {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err != nil || v <= 0 || v >= unlimited { // "max" does not parse
			continue
		}
		if limit == 0 || v < limit {
			limit, source = v, file
		}
	}
	if text := strings.TrimSpace(getenv(memoryLimitEnv)); text != "" {
		v, err := strconv.ParseInt(text, 10, 64)
		if err != nil || v <= 0 {
			return 0, "", fmt.Errorf("invalid %s %q: must be a positive number of bytes", memoryLimitEnv, text)
		}
		if limit == 0 || v < limit {
			limit, source = v, memoryLimitEnv
		}
	}
	return limit, source, nil
}

// cgroupLimitFiles lists the files that may hold this process's memory
// limit, most specific first: those of its own cgroups, as self names them
// (lines "hierarchy-ID:controllers:path", "0::path" for v2), then those at
// the root of the mount, which are the container's own when the container
// has a cgroup namespace.
func cgroupLimitFiles(root, self string) []string {
	var v2, v1 []string
	for line := range strings.SplitSeq(self, "\n") {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 || strings.Contains(parts[2], "..") {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = append(v2, filepath.Join(root, parts[2], "memory.max"))
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			v1 = append(v1, filepath.Join(root, "memory", parts[2], "memory.limit_in_bytes"))
		}
	}
	files := append(v2, filepath.Join(root, "memory.max"))
	files = append(files, v1...)
	return append(files, filepath.Join(root, "memory", "memory.limit_in_bytes"))
}
