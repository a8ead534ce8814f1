// Command gen regenerates the embedded demo data: run `go generate
// ./datasets/demo`, which runs it in the package folder.
package main

import (
	"fmt"
	"os"

	"risklane/datasets/demo"
)

func main() {
	if err := demo.Generate("data"); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
