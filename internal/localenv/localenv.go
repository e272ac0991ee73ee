// Package localenv runs the operator end to end on one machine: a local
// control plane (kube-apiserver and etcd), the Connect Cases emulator and
// the manager, each as a real process built from this repository. The demo,
// the black-box tests and the benchmarks share it.
package localenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

// Demo credentials: fakes that only the emulator's demo seed accepts.
const (
	DemoRegion          = "us-east-1"
	DemoAccessKeyID     = "AKIDEMOCONNECTCASES"
	DemoSecretAccessKey = "demo-secret-access-key-not-for-production"
)

// Build compiles the manager and the emulator into dir and returns their
// paths.
func Build(ctx context.Context, root, dir string) (manager, emulator string, err error) {
	manager = filepath.Join(dir, "manager")
	emulator = filepath.Join(dir, "cases-emulator")
	for bin, pkg := range map[string]string{manager: "./cmd/manager", emulator: "./cmd/cases-emulator"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("failed to build %s: %w\n%s", pkg, err, out)
		}
	}
	return manager, emulator, nil
}

// ControlPlane is a running kube-apiserver and etcd with the project's CRDs,
// and a kubeconfig file for kubectl.
type ControlPlane struct {
	// Env is the envtest environment behind the control plane.
	Env *envtest.Environment
	// Config is an admin client configuration.
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig file.
	Kubeconfig string
	// Kubectl is the path of a kubectl that matches the API server.
	Kubectl string
}

// StartControlPlane starts the local control plane and writes its kubeconfig
// into dir.
func StartControlPlane(dir string) (*ControlPlane, error) {
	env, cfg, err := testenv.Start()
	if err != nil {
		return nil, err
	}
	user, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("failed to add the admin user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("failed to write the kubeconfig: %w", err)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &ControlPlane{Env: env, Config: cfg, Kubeconfig: path, Kubectl: filepath.Join(env.BinaryAssetsDirectory, "kubectl")}, nil
}

// Stop stops the control plane.
func (c *ControlPlane) Stop() error {
	return c.Env.Stop()
}

// RunKubectl runs kubectl against the control plane and returns its combined
// output.
func (c *ControlPlane) RunKubectl(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.Kubectl, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Process is a child process whose output goes to a log file.
type Process struct {
	// Name names the process in messages.
	Name string
	// Log is the path of the file with its stdout and stderr.
	Log string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
	once sync.Once
}

// Start starts a process with its output in logPath.
func Start(name, logPath string, env []string, bin string, args ...string) (*Process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(inheritedEnv(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so that Ctrl-C in a terminal reaches only the
	// parent, which then stops it in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("failed to start %s: %w", name, err)
	}
	p := &Process{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop sends SIGTERM and waits up to grace for the exit, then kills it.
func (p *Process) Stop(grace time.Duration) error {
	p.once.Do(func() { _ = p.cmd.Process.Signal(syscall.SIGTERM) })
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s and was killed", p.Name, grace)
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled() {
		return nil
	}
	return p.err
}

// Kill stops the process at once with SIGKILL and waits for it.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Tail returns the last n lines of the process's log.
func (p *Process) Tail(n int) string {
	data, err := os.ReadFile(p.Log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Emulator is a running cases-emulator process.
type Emulator struct {
	*Process
	// URL is the emulator's base URL.
	URL string
}

// StartEmulator runs the emulator binary on a free loopback port with the
// given extra flags, and waits for the address it announces.
func StartEmulator(ctx context.Context, bin, logPath string, args ...string) (*Emulator, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	full := append([]string{"--listen", "127.0.0.1:0", "--region", DemoRegion,
		"--access-key-id", DemoAccessKeyID, "--secret-access-key", DemoSecretAccessKey}, args...)
	cmd := exec.Command(bin, full...)
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		_ = logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("failed to start the emulator: %w", err)
	}
	p := &Process{Name: "cases-emulator", Log: logPath, cmd: cmd, done: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(logFile, stdout)
	}()
	go func() {
		p.err = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	select {
	case line, ok := <-lines:
		url, found := strings.CutPrefix(line, "listening on ")
		if !ok || !found {
			p.Kill()
			return nil, fmt.Errorf("the emulator did not announce its address: %s", p.Tail(20))
		}
		return &Emulator{Process: p, URL: url}, nil
	case <-ctx.Done():
		p.Kill()
		return nil, ctx.Err()
	}
}

// inheritedEnv returns this process's environment without AWS settings, so
// that a developer's own profile or session token never reaches the local
// processes.
func inheritedEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}

// ManagerEnv returns the environment of a manager process that talks to the
// control plane and to the emulator at url with the demo credentials. The
// AWS default chain reads nothing else: no shared files, no instance
// metadata.
func ManagerEnv(kubeconfig, url string) []string {
	return []string{
		"KUBECONFIG=" + kubeconfig,
		"AWS_REGION=" + DemoRegion,
		"AWS_ACCESS_KEY_ID=" + DemoAccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + DemoSecretAccessKey,
		"AWS_ENDPOINT_URL_CONNECTCASES=" + url,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
	}
}
