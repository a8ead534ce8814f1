package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/parquet/file"
)

// Format is an input file's format, as its first bytes tell it.
type Format uint8

// The input formats.
const (
	CSV Format = iota // optionally gzip-compressed
	Parquet
	ArrowFile
	ArrowStream
)

func (f Format) String() string {
	return [...]string{"CSV", "Parquet", "Arrow IPC file", "Arrow IPC stream"}[f]
}

// SniffLen is how many first bytes of a file Sniff needs.
const SniffLen = 8

// Sniff tells a file's format from its first bytes (SniffLen of them, or
// the whole file when shorter), as every reader of inputs does, and reports
// whether a CSV is gzip-compressed. Anything that is not Parquet or Arrow
// IPC is CSV text.
func Sniff(head []byte) (f Format, gz bool) {
	switch {
	case bytes.HasPrefix(head, []byte("PAR1")):
		return Parquet, false
	case bytes.HasPrefix(head, []byte("ARROW1")):
		return ArrowFile, false
	case bytes.HasPrefix(head, []byte{0xff, 0xff, 0xff, 0xff}):
		return ArrowStream, false
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return CSV, true
	}
	return CSV, false
}

// sniff decides a file's format from its first bytes, refusing a file
// whose name promises a typed format its bytes do not hold, and reports
// whether a CSV is gzip-compressed.
func sniff(path string, f *os.File) (Format, bool, error) {
	var head [SniffLen]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return 0, false, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, false, err
	}
	fm, gz := Sniff(head[:n])
	if fm != CSV || gz {
		return fm, gz, nil
	}
	name := strings.TrimSuffix(strings.ToLower(filepath.Base(path)), ".gz")
	switch filepath.Ext(name) {
	case ".parquet", ".pq":
		return 0, false, errors.New("not a Parquet file (it does not start with PAR1); check that the file is complete, or rename it if it is a CSV")
	case ".arrow", ".ipc", ".feather":
		return 0, false, errors.New("not an Arrow IPC file or stream; check that the file is complete, or rename it if it is a CSV")
	case ".arrows":
		return 0, false, errors.New("not an Arrow IPC stream; check that the file is complete")
	}
	return CSV, false, nil
}

// ParquetRows returns the number of rows a Parquet file's footer states,
// without reading the rows (an upper bound for sizing, not a count of valid
// rows).
func ParquetRows(path string) (n int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: %w", path, damaged(p))
		}
	}()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	defer pf.Close()
	return pf.NumRows(), nil
}
