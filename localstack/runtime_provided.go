package localstack

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// provided.* (and go1.x) functions run their package's executable (bootstrap,
// or the handler named for go1.x) when it is built for this OS and
// architecture; it talks to the Runtime API itself (aws-lambda-go).

type providedRuntime struct{}

func (providedRuntime) matches(runtime string) bool {
	return strings.HasPrefix(runtime, "provided") || runtime == "go1.x"
}

func (providedRuntime) launch(conf lambdaConf, dir, root string) ([]string, string) {
	exe := filepath.Join(dir, "bootstrap")
	if conf.Runtime == "go1.x" {
		exe = filepath.Join(dir, conf.Handler)
	}
	st, err := os.Stat(exe)
	if err != nil {
		return nil, fmt.Sprintf("no %s in the package", filepath.Base(exe))
	}
	if st.Mode()&0o111 == 0 {
		return nil, fmt.Sprintf("%s is not executable", filepath.Base(exe))
	}
	if err := runsHere(exe); err != nil {
		return nil, err.Error()
	}
	return []string{exe}, ""
}

// runsHere checks that an ELF executable is for this machine. Scripts and
// other formats are left to exec to judge.
func runsHere(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return nil // not ELF (a #! script?)
		}
		return err
	}
	defer f.Close()
	if runtime.GOOS != "linux" {
		return fmt.Errorf("%s is a Linux executable and this engine runs on %s", filepath.Base(path), runtime.GOOS)
	}
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM}[runtime.GOARCH]
	if f.Machine != want {
		arch := map[elf.Machine]string{elf.EM_X86_64: "x86_64", elf.EM_AARCH64: "arm64"}[f.Machine]
		if arch == "" {
			arch = f.Machine.String()
		}
		return fmt.Errorf("%s is built for %s and this machine is %s (build it with architecture = %q to run it here)",
			filepath.Base(path), arch, runtime.GOARCH, map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH])
	}
	return nil
}

// debug runs the executable under a headless Delve server on port (JSON-RPC
// API v2; VS Code's Go extension and `dlv connect` attach to it), running at
// once (--continue), accepting several clients one after another. The
// function should be built with -gcflags=all=-N -l and its DWARF kept
// (evdeploy dev --debug builds it so).
func (providedRuntime) debug(_ lambdaConf, argv []string, port int) ([]string, error) {
	dlv, err := findDelve()
	if err != nil {
		return nil, err
	}
	out := []string{dlv, "exec", "--headless", "--api-version=2", "--accept-multiclient", "--continue",
		"--listen=" + debugAddr(port), argv[0]}
	if len(argv) > 1 {
		out = append(out, "--")
		out = append(out, argv[1:]...)
	}
	return out, nil
}
