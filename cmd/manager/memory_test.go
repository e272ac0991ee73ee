package main

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	. "github.com/onsi/gomega"
)

func TestContainerMemoryLimit(t *testing.T) {
	tests := map[string]struct {
		files     map[string]string
		self      string
		env       map[string]string
		want      int64
		wantFile  string
		wantError bool
	}{
		"cgroup v2, own cgroup": {
			files: map[string]string{"kubepods/pod1/memory.max": "134217728\n", "memory.max": "max\n"},
			self:  "0::/kubepods/pod1\n", want: 134217728, wantFile: "kubepods/pod1/memory.max",
		},
		"cgroup v2, namespaced root": {
			files: map[string]string{"memory.max": "268435456\n"},
			self:  "0::/\n", want: 268435456, wantFile: "memory.max",
		},
		"cgroup v2 without a limit": {
			files: map[string]string{"memory.max": "max\n"}, self: "0::/\n",
		},
		"cgroup v1": {
			files: map[string]string{"memory/docker/abc/memory.limit_in_bytes": "104857600\n"},
			self:  "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n", want: 104857600, wantFile: "memory/docker/abc/memory.limit_in_bytes",
		},
		"cgroup v1 without a limit": {
			files: map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712\n"}, self: "4:memory:/\n",
		},
		"no cgroup: the environment variable": {
			env: map[string]string{memoryLimitEnv: "134217728"}, want: 134217728, wantFile: memoryLimitEnv,
		},
		"the lower of cgroup and environment": {
			files: map[string]string{"memory.max": "1073741824\n"}, self: "0::/\n",
			env: map[string]string{memoryLimitEnv: "134217728"}, want: 134217728, wantFile: memoryLimitEnv,
		},
		"the cgroup when lower": {
			files: map[string]string{"memory.max": "67108864\n"}, self: "0::/\n",
			env: map[string]string{memoryLimitEnv: "134217728"}, want: 67108864, wantFile: "memory.max",
		},
		"invalid environment variable": {
			env: map[string]string{memoryLimitEnv: "128Mi"}, wantError: true,
		},
		"no limit anywhere": {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			root := t.TempDir()
			for path, content := range tc.files {
				full := filepath.Join(root, path)
				g.Expect(os.MkdirAll(filepath.Dir(full), 0o755)).To(Succeed())
				g.Expect(os.WriteFile(full, []byte(content), 0o644)).To(Succeed())
			}
			got, source, err := containerMemoryLimit(root, tc.self, func(k string) string { return tc.env[k] })
			if tc.wantError {
				g.Expect(err).To(MatchError(ContainSubstring(memoryLimitEnv)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
			if tc.wantFile == memoryLimitEnv {
				g.Expect(source).To(Equal(memoryLimitEnv))
			} else if tc.wantFile != "" {
				g.Expect(source).To(Equal(filepath.Join(root, tc.wantFile)))
			}
		})
	}
}

func TestSetMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	tests := map[string]struct {
		env        map[string]string
		wantLimit  int64
		wantSource string
	}{
		"90% of the container's limit": {
			env: map[string]string{memoryLimitEnv: "100000000"}, wantLimit: 90000000, wantSource: memoryLimitEnv,
		},
		"GOMEMLIMIT decides when set": {
			env: map[string]string{"GOMEMLIMIT": "50MiB", memoryLimitEnv: "100000000"}, wantLimit: before, wantSource: "GOMEMLIMIT",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			debug.SetMemoryLimit(before)
			got, err := setMemoryLimit(t.TempDir(), "", func(k string) string { return tc.env[k] })
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(memorySettings{Limit: tc.wantLimit, Source: tc.wantSource}))
			g.Expect(debug.SetMemoryLimit(-1)).To(Equal(tc.wantLimit))
		})
	}
}
