// Command duckdb-copy is the DuckDB side of `make bench-suite`: it converts
// a CSV file to Parquet with DuckDB, as a user would in one statement,
//
//	COPY (SELECT * FROM read_csv('IN')) TO 'OUT' (FORMAT parquet)
//
// on --threads threads, and prints one JSON line: rows written and the
// seconds the statement took (opening the database excluded). It lives in
// its own Go module (bench/duckdb/go.mod) so that DuckDB's cgo library never
// enters the risklane binary or `make test`; see docs/benchmarks.md.
package main

import (
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	in := flag.String("in", "", "CSV file to read")
	out := flag.String("out", "", "Parquet file to write")
	threads := flag.Int("threads", 2, "DuckDB threads")
	flag.Parse()
	if *in == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: duckdb-copy --in X.csv --out X.parquet [--threads 2]")
		os.Exit(2)
	}
	if err := run(*in, *out, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "duckdb-copy:", err)
		os.Exit(1)
	}
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func run(in, out string, threads int) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection, so the SET applies to the COPY
	if _, err := db.Exec(fmt.Sprintf("SET threads = %d", threads)); err != nil {
		return err
	}
	var version string
	if err := db.QueryRow("SELECT version()").Scan(&version); err != nil {
		return err
	}
	start := time.Now()
	res, err := db.Exec(fmt.Sprintf("COPY (SELECT * FROM read_csv(%s)) TO %s (FORMAT parquet)", quote(in), quote(out)))
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	rows, err := res.RowsAffected()
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"rows": rows, "seconds": secs, "threads": threads, "duckdb": version,
	})
}
