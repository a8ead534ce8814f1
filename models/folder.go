package models

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"risklane/sink"
)

// The model folder contract (docs/DESIGN.md, "Model folders and kinds"): a
// folder holds manifest.json and the files it lists, each with its SHA-256.
// Every kind writes and reads its folder through WriteFolder and ReadFolder,
// so the checks below hold for all of them.
const (
	// ManifestFile is the manifest of a model folder.
	ManifestFile = "manifest.json"
	// MetricsFile is the training report: it records timings, so it is
	// left out of the model's ID.
	MetricsFile = "metrics.json"
	// FolderFormat and FolderVersion are the manifest's "format" and
	// "version".
	FolderFormat  = "risklane-model"
	FolderVersion = 1
	// DefaultKind is the kind of a manifest that names none: folders
	// written before kinds existed hold gradient-boosted trees.
	DefaultKind = "gbdt"
)

// Size limits of the files ReadFolder reads, checked before reading.
var (
	MaxManifestBytes int64 = 16 << 20
	MaxFileBytes     int64 = 2 << 30
)

// Header is the part of manifest.json every kind writes; a kind's own
// manifest adds its fields beside these.
type Header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Kind names the code that reads the folder; "" means DefaultKind.
	Kind string `json:"kind,omitempty"`
	// ID is FolderID of the files, as written; ReadFolder recomputes it
	// from the bytes it reads and refuses a manifest that disagrees.
	ID string `json:"model_id"`
	// Files maps each file of the folder to its SHA-256, in hex.
	Files map[string]string `json:"files"`
}

// Folder is a model folder as ReadFolder read and checked it.
type Folder struct {
	Dir string
	// Kind is the manifest's kind, DefaultKind when it names none.
	Kind string
	// ID is FolderID of the bytes read.
	ID string
	// Manifest is manifest.json, for the kind to read its own fields from.
	Manifest []byte
	// Files holds the contents of every file the manifest lists.
	Files map[string][]byte
}

// Path returns the path of a file of the folder, for messages.
func (f *Folder) Path(name string) string { return filepath.Join(f.Dir, name) }

// Hashes returns the SHA-256 of each file, in hex.
func Hashes(files map[string][]byte) map[string]string {
	out := make(map[string]string, len(files))
	for name, b := range files {
		h := sha256.Sum256(b)
		out[name] = hex.EncodeToString(h[:])
	}
	return out
}

// FolderID identifies a model by its files: the first 16 hex digits of a
// SHA-256 over the sorted "name hash" lines of every file but the manifest
// and MetricsFile, so that the same model always has the same ID and any
// change to a file that decides its scores changes it.
func FolderID(hashes map[string]string) string {
	names := make([]string, 0, len(hashes))
	for n := range hashes {
		if n != MetricsFile && n != ManifestFile {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s %s\n", n, hashes[n])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// WriteFolder writes the model folder dir atomically: files and then the
// manifest that manifest returns given the model's ID and the files'
// hashes, into a temporary folder next to dir renamed into place when all
// are written. An existing folder at dir is replaced only if risklane wrote
// it (sink's marker, or IsFolder); any other is refused. It returns the ID.
func WriteFolder(dir string, files map[string][]byte, manifest func(id string, hashes map[string]string) ([]byte, error)) (string, error) {
	hashes := Hashes(files)
	id := FolderID(hashes)
	mb, err := manifest(id, hashes)
	if err != nil {
		return "", fmt.Errorf("manifest: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(dir)), 0o755); err != nil {
		return "", err
	}
	out, err := sink.CreateDirAtomic(dir)
	if err != nil {
		return "", err
	}
	defer out.Abort()
	out.Ours = IsFolder
	all := maps.Clone(files)
	all[ManifestFile] = mb
	for name, data := range all {
		if err := sink.WriteFileAtomic(filepath.Join(out.Path(), name), data); err != nil {
			return "", err
		}
	}
	if err := out.Commit(); err != nil {
		return "", err
	}
	return id, nil
}

// ReadFolder reads a model folder: its manifest, then every file the
// manifest lists. Each must be a regular file (not a symbolic link, FIFO or
// device) no larger than MaxFileBytes, checked before reading, with the
// SHA-256 the manifest gives. The model's ID is computed from the bytes
// read; a manifest whose model_id differs is refused.
func ReadFolder(dir string) (*Folder, error) {
	mb, err := readRegular(filepath.Join(dir, ManifestFile), MaxManifestBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is not a model folder (no %s); train one with risklane train", dir, ManifestFile)
		}
		return nil, err
	}
	h, err := ParseHeader(mb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	f := &Folder{Dir: dir, Kind: h.Kind, Manifest: mb, Files: map[string][]byte{}}
	names := make([]string, 0, len(h.Files))
	for name := range h.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	got := map[string]string{}
	for _, name := range names {
		b, err := readRegular(f.Path(name), MaxFileBytes)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		got[name] = hex.EncodeToString(sum[:])
		if got[name] != h.Files[name] {
			// the file's own hash is not printed: the message must not
			// leak a digest of whatever the file turned out to be
			return nil, fmt.Errorf("%s: its SHA-256 is not the one the manifest gives: the file was changed or damaged after training", f.Path(name))
		}
		f.Files[name] = b
	}
	f.ID = FolderID(got)
	if h.ID != "" && h.ID != f.ID {
		return nil, fmt.Errorf("%s: the manifest says model_id %s but its files give %s: the folder was changed after training", filepath.Join(dir, ManifestFile), h.ID, f.ID)
	}
	return f, nil
}

// ParseHeader reads the common part of a manifest and checks it: the
// format and version, and that every listed name is a plain file name
// inside the folder with a SHA-256 in hex. An absent kind is DefaultKind.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if err := json.Unmarshal(b, &h); err != nil {
		return Header{}, err
	}
	if h.Format != FolderFormat || h.Version != FolderVersion {
		return Header{}, fmt.Errorf("format %q version %d; this risklane reads %q version %d",
			h.Format, h.Version, FolderFormat, FolderVersion)
	}
	if h.Kind == "" {
		h.Kind = DefaultKind
	}
	for name, sum := range h.Files {
		if name == "" || name == ManifestFile || name != filepath.Base(name) || strings.HasPrefix(name, ".") || strings.ContainsAny(name, `/\`) {
			return Header{}, fmt.Errorf("the manifest lists %q, which is not a file of the folder", name)
		}
		if len(sum) != 2*sha256.Size || strings.Trim(sum, "0123456789abcdef") != "" {
			return Header{}, fmt.Errorf("the hash of %s, %q, is not a SHA-256 in hex", name, sum)
		}
	}
	return h, nil
}

// readRegular reads the file at path when it is a regular file of at most
// limit bytes, checking before it reads: a symbolic link, a FIFO, a device
// or an oversized file is refused without being opened or read. The file is
// opened without following links and without blocking, and checked again
// once open, so that swapping it between the two checks gains nothing.
func readRegular(path string, limit int64) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(path, fi, limit); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fo, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := regular(path, fo, limit); err != nil {
		return nil, err
	}
	if !os.SameFile(fi, fo) {
		return nil, fmt.Errorf("%s changed while being opened", path)
	}
	// Sized from the file (io.ReadAll's doubling clears and copies a large
	// model file several times), still stopping past limit.
	b := make([]byte, 0, min(fo.Size(), limit)+1)
	lr := io.LimitReader(f, limit+1)
	for {
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = slices.Grow(b, len(b)/2+512)
		}
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s grew beyond %d bytes while being read", path, limit)
	}
	return b, nil
}

func regular(path string, fi fs.FileInfo, limit int64) error {
	if m := fi.Mode(); !m.IsRegular() {
		what := "not a regular file"
		switch {
		case m&fs.ModeSymlink != 0:
			what = "a symbolic link"
		case m&fs.ModeNamedPipe != 0:
			what = "a FIFO"
		case m&fs.ModeDevice != 0:
			what = "a device"
		case m.IsDir():
			what = "a folder"
		}
		return fmt.Errorf("%s is %s; a model folder holds regular files only", path, what)
	}
	if fi.Size() > limit {
		return fmt.Errorf("%s is %d bytes, more than the %d a model file may have", path, fi.Size(), limit)
	}
	return nil
}
