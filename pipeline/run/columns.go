package run

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet/file"

	"risklane/decl"
	"risklane/ingest/profile"
)

// absentColumns returns the canonical columns the profile finds in no column
// of the file: ingest gives them as nulls in every row. A model that needs
// one of them cannot score the file as it was trained to.
func absentColumns(path string, p *profile.Profile) ([]string, error) {
	names, err := sourceColumns(path, p.Comma())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := p.Bind(names, nil)
	if err != nil {
		return nil, nil // ingest reports it, with its own words
	}
	var absent []string
	for i, src := range b.Source {
		if src < 0 {
			absent = append(absent, decl.Columns[i].Name)
		}
	}
	return absent, nil
}

// sourceColumns reads the column names of a declarations file: a Parquet or
// Arrow schema, or a CSV header (gzip-compressed or not).
func sourceColumns(path string, comma byte) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(8)
	switch {
	case strings.HasPrefix(string(head), "PAR1"):
		pf, err := file.OpenParquetFile(path, false)
		if err != nil {
			return nil, err
		}
		defer pf.Close()
		s := pf.MetaData().Schema.Root()
		names := make([]string, s.NumFields())
		for i := range names {
			names[i] = s.Field(i).Name()
		}
		return names, nil
	case strings.HasPrefix(string(head), "ARROW1"):
		r, err := ipc.NewFileReader(f)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return fieldNames(r.Schema().Fields()), nil
	case strings.HasPrefix(string(head), "\xff\xff\xff\xff"):
		r, err := ipc.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer r.Release()
		return fieldNames(r.Schema().Fields()), nil
	}
	var in io.Reader = br
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		in = z
	}
	cr := csv.NewReader(in)
	cr.Comma = rune(comma)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return nil, err
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	return header, nil
}

func fieldNames(fields []arrow.Field) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}
