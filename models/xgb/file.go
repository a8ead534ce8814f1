package xgb

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"risklane/sink"
)

// Format is a model file format.
type Format int

// The model file formats risklane reads; it writes JSON and LegacyBinary.
const (
	JSON         Format = iota + 1 // XGBoost JSON (save_model("model.json"))
	UBJSON                         // XGBoost UBJSON (save_model("model.ubj"))
	LegacyBinary                   // XGBoost 0.90 / 1.0 binary, which leaves loads
)

func (f Format) String() string {
	switch f {
	case JSON:
		return "XGBoost JSON"
	case UBJSON:
		return "XGBoost UBJSON"
	case LegacyBinary:
		return "XGBoost legacy binary"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Sniff tells a model file's format from its first bytes: JSON text starts
// with '{' and a quote, UBJSON with '{' and a length marker, anything else
// is taken for a binary model (whose reader then checks it thoroughly).
func Sniff(data []byte) Format {
	switch {
	case looksUBJSON(data):
		return UBJSON
	case len(bytes.TrimLeft(data, " \t\r\n")) > 0 && bytes.TrimLeft(data, " \t\r\n")[0] == '{':
		return JSON
	}
	return LegacyBinary
}

// FormatOf infers the format to write from a file name: .json for JSON,
// .ubj for UBJSON, .model or .bin for the legacy binary.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return JSON, nil
	case ".ubj":
		return UBJSON, nil
	case ".model", ".bin":
		return LegacyBinary, nil
	}
	return 0, fmt.Errorf("%s: cannot tell the model format from the extension (want .json, .ubj, .model or .bin)", path)
}

// ReadFile reads and validates a model file in any format risklane reads,
// telling the format from the content (see Sniff) rather than the name.
// Errors start with the path.
func ReadFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	format := Sniff(data)
	var m *Model
	switch format {
	case JSON:
		m, err = decodeJSON(data)
	case UBJSON:
		m, err = decodeUBJSON(data)
	default:
		m, err = decodeLegacy(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// WriteFile validates m and writes it atomically to path in the format its
// extension names (see FormatOf; UBJSON is read-only).
func WriteFile(path string, m *Model) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	var write func(io.Writer, *Model) error
	switch format {
	case JSON:
		write = WriteJSON
	case LegacyBinary:
		write = WriteLegacyBinary
	default:
		return fmt.Errorf("%s: risklane writes models as JSON (.json) or legacy binary (.model, .bin), not %s", path, format)
	}
	return sink.WriteAtomic(path, func(w io.Writer) error { return write(w, m) })
}
