package main

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"risklane/internal/testenv"
	"risklane/pipeline/run"
)

// make release builds a static binary stamped with the version it is given:
// the binary has no ELF interpreter (no dynamic libc) and prints the stamp.
// Only this machine's platform is built, so that the binary can be run.
func TestMakeRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the whole binary with the release flags (make test runs it)")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the ELF check needs linux")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("skipping: no make (apt-get install make)")
	}
	dist := t.TempDir()
	const stamp = "v9.9.9-test"
	cmd := exec.Command("make", "-s", "release", "PLATFORMS=linux/"+runtime.GOARCH, "VERSION="+stamp, "DIST="+dist)
	cmd.Dir = testenv.Root(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	bin := filepath.Join(dist, "risklane-"+stamp+"-linux-"+runtime.GOARCH)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has an ELF interpreter: it is linked dynamically, not static", bin)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v", bin, libs)
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil || strings.TrimSpace(string(out)) != "risklane "+stamp {
			t.Errorf("risklane %s = %q, %v; want %q", args[0], out, err, "risklane "+stamp)
		}
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS-"+stamp))
	if err != nil || !bytes.Contains(sums, []byte(filepath.Base(bin))) {
		t.Errorf("SHA256SUMS-%s does not list the binary: %q, %v", stamp, sums, err)
	}
}

// An unknown command is a wrong command line (exit 2), like an unknown flag.
func TestUnknownCommandExit2(t *testing.T) {
	for _, args := range [][]string{{"scroe"}, {"--bogus"}, {"score", "--bogus"}} {
		rootCmd.SetArgs(args)
		rootCmd.SetOut(new(bytes.Buffer))
		rootCmd.SetErr(new(bytes.Buffer))
		err := rootCmd.Execute()
		if err == nil || exitCode(err) != run.ExitUsage {
			t.Errorf("risklane %s: %v, exit %d; want exit %d", strings.Join(args, " "), err, exitCodeOrZero(err), run.ExitUsage)
		}
		if err != nil && strings.Contains(err.Error(), "risklane risklane") {
			t.Errorf("risklane %s: %v names the command twice", strings.Join(args, " "), err)
		}
	}
	rootCmd.SetArgs(nil)
}

func exitCodeOrZero(err error) int {
	if err == nil {
		return 0
	}
	return exitCode(err)
}

// go.mod and go.sum say exactly what the code imports, in the root module
// and in beam/ (the issue found spf13/pflag missing). Offline: a module that
// is not in the module cache skips the check rather than download it.
func TestGoModTidy(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: go mod tidy loads every package of the module")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	root := testenv.Root(t)
	for _, dir := range []string{root, filepath.Join(root, "beam")} {
		cmd := exec.Command(gobin, "mod", "tidy", "-diff")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		switch {
		case err == nil:
		case bytes.Contains(out, []byte("GOPROXY=off")) || bytes.Contains(out, []byte("module lookup disabled")):
			t.Logf("%s: skipped, a module is not in the cache and the network is off:\n%s", dir, out)
		default:
			t.Errorf("go mod tidy -diff in %s: %v\n%s", dir, err, out)
		}
	}
}
