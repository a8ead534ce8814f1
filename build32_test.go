package risklane

import (
	"os"
	"os/exec"
	"testing"
)

// TestBuilds32Bit type-checks the module, tests included, for a 32-bit
// platform (GOARCH=386), where int is 32 bits: a constant such as a 2 GiB
// file limit or a 2^32-1 row limit used as an int no longer compiles there
// (`make release` and anyone building for 386 or arm would find out). It
// needs the go command; -short skips it.
func TestBuilds32Bit(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 32-bit build (GOARCH=386 go vet ./...)")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH: cannot check the 32-bit build (GOARCH=386 go vet ./...)")
	}
	cmd := exec.Command(gobin, "vet", "./...")
	cmd.Env = append(os.Environ(), "GOARCH=386", "GOOS=linux", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOARCH=386 go vet ./...: %v\n%s", err, out)
	}
}
