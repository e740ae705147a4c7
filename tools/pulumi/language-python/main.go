// Command pulumi-language-python is a minimal Python language host for the Pulumi engine.
//
// The upstream host (module github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) is not
// served by the Go module proxy reachable here, so this one implements the same gRPC contract for what
// `pulumi install/up/preview/refresh/destroy` need. It chooses and drives the project's Python environment with
// upstream's own toolchain package (github.com/pulumi/pulumi/sdk/v3/python/toolchain, in the sdk/v3 module), as
// upstream's host does: Pulumi.yaml's `runtime.options` `toolchain` (pip, uv or poetry; else detected from a
// uv.lock or poetry.lock, else pip) and `virtualenv`, else PULUMI_PYTHON_CMD, else python3. The program runs with
// the environment's python and its bin first on PATH, so whatever the program starts finds the environment's
// tools without the user putting them on PATH.
//
// Where it differs from upstream's host (docs/COMPATIBILITY.md, "Python toolchains"):
//   - No plugin or package discovery (GetRequiredPlugins/Packages, GetProgramDependencies answer nothing): our
//     library brings no Pulumi plugin besides the dynamic provider's, which the engine finds beside itself.
//   - No `typechecker` option runs (accepted, ignored), no debugger attach, no code generation, no Pack/Link.
//   - A uv workspace: the environment is at the workspace root, where upstream's toolchain finds it, but the SDK's
//     `pulumi-resource-pulumi-python`, which the engine starts for dynamic providers, looks for `$PWD/.venv` only
//     (toolchain: uv without `virtualenv`). This host links the program directory's `.venv` to the workspace's
//     when the project has none, so the provider process runs the program's environment (upstream fails there).
//   - A toolchain detected from a lock file rather than named in Pulumi.yaml does not reach that script (the
//     engine passes only Pulumi.yaml's options): this host says so on stderr instead of letting the provider fail
//     with "No module named 'pulumi'".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set with -ldflags to the engine's version.
var version = "dev"

// userActionableExitCode is the exec script's signal that it already showed the error to the user.
const userActionableExitCode = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

// options are Pulumi.yaml's `runtime.options` as upstream's host reads them.
type options struct {
	python    toolchain.PythonOptions
	named     bool // `toolchain` given in Pulumi.yaml (not detected)
	hasVenvOp bool // `virtualenv` given
}

func parseOptions(root, programDir string, raw map[string]any) (options, error) {
	opts := options{python: toolchain.PythonOptions{Root: root, ProgramDir: programDir}}
	if root == "" {
		opts.python.Root = programDir
	}
	if venv, ok := raw["virtualenv"]; ok {
		s, ok := venv.(string)
		if !ok {
			return opts, errors.New("virtualenv option must be a string")
		}
		opts.python.Virtualenv, opts.hasVenvOp = s, s != ""
	}
	if tc, ok := raw["toolchain"]; ok {
		s, ok := tc.(string)
		if !ok {
			return opts, errors.New("toolchain option must be a string")
		}
		switch s {
		case "pip":
			opts.python.Toolchain = toolchain.Pip
		case "poetry":
			opts.python.Toolchain = toolchain.Poetry
		case "uv":
			opts.python.Toolchain = toolchain.Uv
		default:
			return opts, fmt.Errorf("unsupported toolchain option: %s", s)
		}
		opts.named = true
	}
	return opts, nil
}

func programDirs(info *pulumirpc.ProgramInfo, pwd string) (string, string) {
	root, programDir := info.GetRootDirectory(), info.GetProgramDirectory()
	if programDir == "" {
		programDir = pwd
	}
	if root == "" {
		root = programDir
	}
	return root, programDir
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// Plugins are installed in the project's environment; nothing is acquired by the engine.
func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetProgramDependencies(context.Context, *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

// InstallDependencies is `pulumi install` (and `pulumi new`): make the environment and install requirements.txt
// (pip), or the pyproject.toml / lock file (uv sync, poetry install), exactly as upstream's toolchain does.
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	root, programDir := programDirs(req.GetInfo(), req.GetDirectory())
	var raw map[string]any
	if req.GetInfo().GetOptions() != nil {
		raw = req.GetInfo().GetOptions().AsMap()
	}
	opts, err := parseOptions(root, programDir, raw)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	fmt.Fprintf(stdout, "Installing dependencies...\n\n")
	tc, err := toolchain.ResolveToolchain(opts.python)
	if err != nil {
		return err
	}
	ctx := server.Context()
	if err := tc.InstallDependencies(ctx, programDir, req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
		return err
	}
	if err := linkWorkspaceEnvironment(ctx, opts, tc, programDir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

// linkWorkspaceEnvironment makes `<program>/.venv` point at a uv workspace's environment (see the package comment).
func linkWorkspaceEnvironment(ctx context.Context, opts options, tc toolchain.Toolchain, programDir string) error {
	if opts.python.Toolchain != toolchain.Uv || opts.hasVenvOp {
		return nil
	}
	venv, err := tc.VirtualEnvPath(ctx)
	if err != nil || !toolchain.IsVirtualEnv(venv) {
		return nil
	}
	local := filepath.Join(programDir, ".venv")
	if filepath.Clean(venv) == filepath.Clean(local) {
		return nil
	}
	if _, err := os.Lstat(local); err == nil {
		return nil // the project's own, or a link made before: left as it is
	}
	target, err := filepath.Rel(programDir, venv)
	if err != nil {
		target = venv
	}
	if err := os.Symlink(target, local); err != nil {
		return fmt.Errorf("linking %s to the uv workspace's environment %s for dynamic providers: %w", local, venv, err)
	}
	return nil
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	root, programDir := programDirs(req.GetInfo(), "")
	var raw map[string]any
	if req.GetInfo().GetOptions() != nil {
		raw = req.GetInfo().GetOptions().AsMap()
	}
	opts, err := parseOptions(root, programDir, raw)
	if err != nil {
		return nil, err
	}
	if programDir == "" {
		opts.python = toolchain.PythonOptions{Toolchain: toolchain.Pip}
	}
	tc, err := toolchain.ResolveToolchain(opts.python)
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata: map[string]string{
			"toolchain":        toolchain.Name(opts.python.Toolchain),
			"toolchainVersion": info.ToolchainVersion.String(),
		},
	}, nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	root, programDir := programDirs(info, req.GetPwd())
	program := info.GetEntryPoint()
	if program == "" {
		program = "."
	}
	if !filepath.IsAbs(program) {
		program = filepath.Join(programDir, program)
	}

	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	execScript := filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")

	var raw map[string]any
	if info.GetOptions() != nil {
		raw = info.GetOptions().AsMap()
	}
	opts, err := parseOptions(root, programDir, raw)
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts.python)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	if err := linkWorkspaceEnvironment(ctx, opts, tc, programDir); err != nil {
		return nil, err
	}
	if !opts.named && opts.python.Toolchain == toolchain.Auto {
		if detected := detectedToolchain(programDir); detected != "" {
			fmt.Fprintf(os.Stderr, "warning: found a %s.lock but Pulumi.yaml names no toolchain: dynamic providers run "+
				"with python3 (or PULUMI_PYTHON_CMD), not this environment; add `toolchain: %s` under runtime.options\n",
				detected, detected)
		}
	}

	args := []string{
		"-u", execScript,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engineAddress,
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", req.GetPwd(),
		"--dry_run", strconv.FormatBool(req.GetDryRun()),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
		"--organization", req.GetOrganization(),
		"--root_directory", root,
		program,
	}
	args = append(args, req.GetArgs()...)

	// As upstream: a stack without config gets no PULUMI_CONFIG (the SDK reads "null" as a broken config).
	var configEnv []string
	if req.GetConfig() != nil {
		config, err := json.Marshal(req.GetConfig())
		if err != nil {
			return nil, err
		}
		configEnv = append(configEnv, "PULUMI_CONFIG="+string(config))
	}
	if req.GetConfigSecretKeys() != nil {
		secretKeys, err := json.Marshal(req.GetConfigSecretKeys())
		if err != nil {
			return nil, err
		}
		configEnv = append(configEnv, "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	}

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	cmd.Dir = req.GetPwd()
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env, configEnv...)
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == userActionableExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode())}, nil
		}
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// detectedToolchain is the toolchain upstream's ResolveToolchain would pick from a lock file, if any.
func detectedToolchain(dir string) string {
	for {
		for _, name := range []string{"uv", "poetry"} {
			if _, err := os.Stat(filepath.Join(dir, name+".lock")); err == nil {
				return name
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func main() {
	h := &host{}
	// The engine passes its own address as the one positional argument, after any -flag=value options.
	for _, arg := range os.Args[1:] {
		if len(arg) > 0 && arg[0] != '-' {
			h.engineAddress = arg
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "fatal: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "fatal: %v\n", err)
		os.Exit(1)
	}
}
