package stage

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"risklane/features/pricecluster"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/sink"
)

// ClusterConfig is one price-cluster fit, as risklane cluster takes it.
type ClusterConfig struct {
	Inputs  []string
	Profile string
	Config  pricecluster.Config
	// Out, if not "", is the per-declaration assignments as risklane
	// cluster --out writes them (the files are read a second time, with the
	// model as a side input); their group table goes beside it
	// (pricecluster.GroupTablePath).
	Out string
	// Clusters, if not "", is the fitted model (JSON), as risklane cluster
	// --clusters writes it; Groups, if not "", the group table (Out puts
	// it beside the assignments); Prices, if not "", the reference prices
	// per HS6 of --reference-prices.
	Clusters, Groups, Prices string
	Rejects                  string // rejected rows (CSV); "" for none
	// BatchSize is the rows per record batch read (0: ingest's default).
	BatchSize int
	// Chunk is the rows a reader buffers before it emits them, one element
	// per group (0: DefaultChunk; 1: one element per row and group).
	Chunk int
}

// Cluster adds the price-cluster fit to the pipeline:
//
//	files -> read (rejects: a side output); every row with a unit value
//	         keyed by each group pricecluster.GroupsOf puts it in, emitted
//	         in chunks (one element per group per Chunk rows read)
//	      -> GroupByKey(group): the group's rows in Fit's order (HS6, then
//	         input order), one pricecluster.FitGroup each, seeded per group
//	         as Fit seeds it
//	      -> one worker: pricecluster.NewModel, the model (JSON)
//	      -> its writer: the model, group table and reference prices
//	      -> with Out: files read again, the model (side input) applied per
//	         batch; one writer: the assignments in input order
//
// The model, group table and assignments are byte-identical to risklane
// cluster's (TestClusterEqualsRisklaneCluster). Clustering needs no labels.
func Cluster(s beam.Scope, cfg ClusterConfig) error {
	s = s.Scope("cluster")
	if cfg.Out == "" && cfg.Clusters == "" && cfg.Groups == "" && cfg.Prices == "" {
		return fmt.Errorf("cluster: no output: give the assignments, the model, the group table or the reference prices")
	}
	groupsOut := cfg.Groups
	if cfg.Out != "" {
		if groupsOut != "" && groupsOut != pricecluster.GroupTablePath(cfg.Out) {
			return fmt.Errorf("cluster: the group table goes beside the assignments, as %s", pricecluster.GroupTablePath(cfg.Out))
		}
		groupsOut = pricecluster.GroupTablePath(cfg.Out)
	}
	in := beam.CreateList(s, filesOf(cfg.Inputs))
	groups := clusterGroups(s, in, cfg.Profile, cfg.BatchSize, cfg.Chunk, cfg.Config, cfg.Rejects)
	model := beam.ParDo(s, &modelFn{Config: cfg.Config}, beam.GroupByKey(s, beam.AddFixedKey(s, groups)))
	beam.ParDo0(s, &writeClustersFn{Clusters: cfg.Clusters, Groups: groupsOut, Prices: cfg.Prices}, model)
	if cfg.Out != "" {
		parts := beam.ParDo(s, &assignFileFn{Profile: cfg.Profile, BatchSize: cfg.BatchSize}, in, beam.SideInput{Input: model})
		beam.ParDo0(s, &writeAssignmentsFn{Out: cfg.Out, BatchSize: cfg.BatchSize}, beam.GroupByKey(s, beam.AddFixedKey(s, parts)))
	}
	return nil
}

// clusterGroups returns the fitted groups (pricecluster.Group as JSON).
func clusterGroups(s beam.Scope, in beam.PCollection, prof string, batchSize, chunk int, cfg pricecluster.Config, rejects string) beam.PCollection {
	rows, rej := beam.ParDo2(s, &clusterRowsFn{Profile: prof, BatchSize: batchSize, Chunk: chunk}, in)
	if rejects != "" {
		writeRejects(s, rejects, rej)
	}
	return beam.ParDo(s, &fitGroupFn{Config: cfg}, beam.GroupByKey(s, rows))
}

func filesOf(paths []string) []fileIn {
	files := make([]fileIn, len(paths))
	for i, p := range paths {
		files[i] = fileIn{Index: i, Path: p}
	}
	return files
}

// clusterRow is one row of a group: its place in the input order, its HS6
// code (Fit's order within a group) and its amounts.
type clusterRow struct {
	File             int
	Ord              int64
	HS6              int32
	Value, Mass, Qty float64
}

// groupID packs a pricecluster.GroupKey into an int64 shuffle key.
func groupID(k pricecluster.GroupKey) int64 {
	return int64(k.Basis)<<40 | int64(k.Level)<<32 | int64(uint32(k.Code))
}

func groupOf(id int64) pricecluster.GroupKey {
	return pricecluster.GroupKey{Basis: pricecluster.Basis(id >> 40), Level: pricecluster.Level(id >> 32 & 0xff), Code: int32(uint32(id))}
}

// clusterRowsFn reads a file and keys each row by its groups.
type clusterRowsFn struct {
	Profile   string
	BatchSize int
	Chunk     int
	prof      *profile.Profile
}

func (f *clusterRowsFn) Setup() error {
	var err error
	f.prof, err = profile.Resolve(f.Profile)
	return err
}

func (f *clusterRowsFn) ProcessElement(in fileIn, emit func(int64, []byte), reject func(rejectRow)) error {
	cr := newClusterRows(in, f.Chunk, emit)
	err := readDecl(f.prof, in, ingest.Options{BatchSize: f.BatchSize}, reject, cr.add)
	if err != nil {
		return err
	}
	cr.flush()
	return nil
}

// clusterRows keys the rows of a file by the price-cluster groups they
// belong to, numbered in file order (Fit's order within a group), and
// emits them in chunks (encodeClusterRows). A row goes to its HS4 group,
// whose DoFn fits the HS6 groups inside it too (an HS6 group's rows are a
// run of its HS4 group's in Fit's order), and to the global group of its
// basis: twice, not once per group. The cluster and fit stages share it.
type clusterRows struct {
	in   fileIn
	rows pricecluster.Rows
	ord  int64
	*chunker[int64, clusterRow]
}

func newClusterRows(in fileIn, chunk int, emit func(int64, []byte)) *clusterRows {
	return &clusterRows{in: in, chunker: newChunker(chunk, func(k int64, _ int, rows []clusterRow) { emit(k, encodeClusterRows(rows)) })}
}

func (c *clusterRows) add(rec arrow.RecordBatch) error {
	c.rows.Reset()
	if err := c.rows.Append(rec); err != nil {
		return fmt.Errorf("%s: %w", c.in.Path, err)
	}
	for i := range c.rows.HS6 {
		r := clusterRow{File: c.in.Index, Ord: c.ord, HS6: c.rows.HS6[i], Value: c.rows.Value[i], Mass: c.rows.Mass[i], Qty: c.rows.Qty[i]}
		for _, k := range pricecluster.GroupsOf(r.HS6, r.Value, r.Mass, r.Qty) {
			if k.Level != pricecluster.LevelHS6 {
				c.chunker.add(groupID(k), r)
			}
		}
		c.ord++
	}
	return nil
}

// fitGroupFn fits one group on its rows, in Fit's order; an HS4 group's
// DoFn fits the HS6 groups inside it too, each on its run of the rows.
type fitGroupFn struct {
	Config pricecluster.Config
}

func (f *fitGroupFn) ProcessElement(id int64, chunks func(*[]byte) bool, emit func([]byte)) error {
	var all []clusterRow
	var b []byte
	for chunks(&b) {
		var err error
		if all, err = decodeClusterRows(b, all); err != nil {
			return err
		}
	}
	slices.SortFunc(all, func(a, b clusterRow) int {
		return cmp.Or(cmp.Compare(a.HS6, b.HS6), cmp.Compare(a.File, b.File), cmp.Compare(a.Ord, b.Ord))
	})
	value, mass, qty := make([]float64, len(all)), make([]float64, len(all)), make([]float64, len(all))
	for i, r := range all {
		value[i], mass[i], qty[i] = r.Value, r.Mass, r.Qty
	}
	fit := func(k pricecluster.GroupKey, lo, hi int) error {
		g, ok, err := pricecluster.FitGroup(k, value[lo:hi], mass[lo:hi], qty[lo:hi], f.Config)
		if err != nil || !ok {
			return err
		}
		b, err := json.Marshal(g)
		if err != nil {
			return err
		}
		emit(b)
		return nil
	}
	k := groupOf(id)
	if k.Level == pricecluster.LevelHS4 {
		for lo := 0; lo < len(all); {
			hi := lo + 1
			for hi < len(all) && all[hi].HS6 == all[lo].HS6 {
				hi++
			}
			if err := fit(pricecluster.GroupKey{Level: pricecluster.LevelHS6, Basis: k.Basis, Code: all[lo].HS6}, lo, hi); err != nil {
				return err
			}
			lo = hi
		}
	}
	return fit(k, 0, len(all))
}

// encodeClusterRows encodes a chunk of one file's rows (of one group, in
// file order): the file, then per row the step of its number from the
// row before, its HS6 code (varints) and its value, mass and quantity
// (8 bytes each, the float's bits, NaN kept). Some 27 bytes a row, where
// Beam's row coder took over 40 and a decoded row 48.
func encodeClusterRows(rows []clusterRow) []byte {
	b := make([]byte, 0, 8+28*len(rows))
	var file int
	if len(rows) > 0 {
		file = rows[0].File
	}
	b = binary.AppendUvarint(b, uint64(file))
	var prev int64
	for _, r := range rows {
		if r.File != file {
			panic("internal error: a cluster chunk holds rows of two files")
		}
		b = binary.AppendVarint(b, r.Ord-prev)
		prev = r.Ord
		b = binary.AppendVarint(b, int64(r.HS6))
		for _, x := range [...]float64{r.Value, r.Mass, r.Qty} {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
	}
	return b
}

var errClusterChunk = errors.New("internal error: a malformed chunk of cluster rows")

// decodeClusterRows appends the rows encodeClusterRows encoded to dst.
func decodeClusterRows(b []byte, dst []clusterRow) ([]clusterRow, error) {
	file, n := binary.Uvarint(b)
	if n <= 0 {
		return dst, errClusterChunk
	}
	b = b[n:]
	var ord int64
	for len(b) > 0 {
		step, n := binary.Varint(b)
		if n <= 0 {
			return dst, errClusterChunk
		}
		b = b[n:]
		hs6, n := binary.Varint(b)
		if n <= 0 || len(b) < n+24 {
			return dst, errClusterChunk
		}
		b = b[n:]
		ord += step
		dst = append(dst, clusterRow{File: int(file), Ord: ord, HS6: int32(hs6),
			Value: math.Float64frombits(binary.LittleEndian.Uint64(b)),
			Mass:  math.Float64frombits(binary.LittleEndian.Uint64(b[8:])),
			Qty:   math.Float64frombits(binary.LittleEndian.Uint64(b[16:]))})
		b = b[24:]
	}
	return dst, nil
}

// modelOf assembles the fitted groups.
func modelOf(cfg pricecluster.Config, groups func(*[]byte) bool) (*pricecluster.Model, error) {
	var all []pricecluster.Group
	var b []byte
	for groups(&b) {
		var g pricecluster.Group
		if err := json.Unmarshal(b, &g); err != nil {
			return nil, err
		}
		all = append(all, g)
	}
	return pricecluster.NewModel(cfg, all)
}

// modelFn assembles the fitted groups into the model, as its JSON.
type modelFn struct {
	Config pricecluster.Config
}

func (f *modelFn) ProcessElement(_ int, groups func(*[]byte) bool, emit func([]byte)) error {
	m, err := modelOf(f.Config, groups)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := m.WriteJSON(&buf); err != nil {
		return err
	}
	emit(buf.Bytes())
	return nil
}

func readClusterModel(b []byte) (*pricecluster.Model, error) {
	return pricecluster.ReadModel(bytes.NewReader(b), "the fitted price clusters")
}

// writeClustersFn writes the model, its group table and reference prices.
type writeClustersFn struct {
	Clusters, Groups, Prices string
}

func (f *writeClustersFn) ProcessElement(model []byte) error {
	m, err := readClusterModel(model)
	if err != nil {
		return err
	}
	for _, out := range []struct {
		path  string
		table func(memory.Allocator) arrow.RecordBatch
	}{{f.Groups, m.GroupTable}, {f.Prices, m.ReferencePrices}} {
		if out.path == "" {
			continue
		}
		t := out.table(memory.DefaultAllocator)
		err := sink.WriteTable(out.path, t)
		t.Release()
		if err != nil {
			return err
		}
	}
	if f.Clusters == "" {
		return nil
	}
	return sink.WriteFileAtomic(f.Clusters, model)
}

// assignPart is one input batch's assignments (Arrow IPC), with its place
// in the input order.
type assignPart struct {
	File, Batch int
	IPC         []byte
}

// assignFileFn reads a file again and applies the model to each batch.
type assignFileFn struct {
	Profile   string
	BatchSize int
	prof      *profile.Profile
}

func (f *assignFileFn) Setup() error {
	var err error
	f.prof, err = profile.Resolve(f.Profile)
	return err
}

func (f *assignFileFn) ProcessElement(in fileIn, model []byte, emit func(assignPart)) error {
	m, err := readClusterModel(model)
	if err != nil {
		return err
	}
	var rows pricecluster.Rows
	var a pricecluster.Assignment
	batch := 0
	return readDecl(f.prof, in, ingest.Options{BatchSize: f.BatchSize}, nil, func(rec arrow.RecordBatch) error {
		ids, hs, err := pricecluster.AssignmentColumns(rec)
		if err != nil {
			return err
		}
		rows.Reset()
		if err := rows.Append(rec); err != nil {
			return fmt.Errorf("%s: %w", in.Path, err)
		}
		if err := m.Apply(rows.HS6, rows.Value, rows.Mass, rows.Qty, &a); err != nil {
			return err
		}
		out := m.AssignmentTable(memory.DefaultAllocator, ids, hs, &a, 0)
		b, err := encodeBatch(out)
		out.Release()
		if err != nil {
			return err
		}
		emit(assignPart{File: in.Index, Batch: batch, IPC: b})
		batch++
		return nil
	})
}

// writeAssignmentsFn writes the assignments in input order, in batches of
// BatchSize rows across files as risklane cluster's reader gives them
// (ingest.OpenFiles fills a batch from the next file): the Parquet pages
// follow the batches written, so the same boundaries give the same bytes.
type writeAssignmentsFn struct {
	Out       string
	BatchSize int
}

func (f *writeAssignmentsFn) ProcessElement(_ int, parts func(*assignPart) bool) error {
	var all []assignPart
	var p assignPart
	for parts(&p) {
		all = append(all, p)
	}
	slices.SortFunc(all, func(a, b assignPart) int { return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Batch, b.Batch)) })
	var recs []arrow.RecordBatch
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for _, p := range all {
		rec, err := decodeBatch(p.IPC)
		if err != nil {
			return err
		}
		recs = append(recs, rec)
	}
	cols := make([]arrow.Array, len(pricecluster.AssignmentSchema.Fields()))
	var n int64
	for c := range cols {
		var parts []arrow.Array
		for _, r := range recs {
			parts = append(parts, r.Column(c))
		}
		if len(parts) > 0 {
			a, err := array.Concatenate(parts, memory.DefaultAllocator)
			if err != nil {
				return err
			}
			defer a.Release()
			cols[c], n = a, int64(a.Len())
		}
	}
	size := int64(f.BatchSize)
	if size <= 0 {
		size = ingest.DefaultBatchSize
	}
	w, err := sink.Create(f.Out, pricecluster.AssignmentSchema)
	if err != nil {
		return err
	}
	defer w.Abort()
	if n > 0 {
		whole := array.NewRecordBatch(pricecluster.AssignmentSchema, cols, n)
		defer whole.Release()
		for lo := int64(0); lo < n; lo += size {
			part := whole.NewSlice(lo, min(lo+size, n))
			err := w.Write(part)
			part.Release()
			if err != nil {
				return err
			}
		}
	}
	return w.Commit()
}

func init() {
	register.DoFn3x1[fileIn, func(int64, []byte), func(rejectRow), error](&clusterRowsFn{})
	register.DoFn3x1[int64, func(*[]byte) bool, func([]byte), error](&fitGroupFn{})
	register.DoFn3x1[int, func(*[]byte) bool, func([]byte), error](&modelFn{})
	register.DoFn1x1[[]byte, error](&writeClustersFn{})
	register.DoFn3x1[fileIn, []byte, func(assignPart), error](&assignFileFn{})
	register.DoFn2x1[int, func(*assignPart) bool, error](&writeAssignmentsFn{})
	register.Emitter2[int64, []byte]()
	register.Emitter1[[]byte]()
	register.Emitter1[assignPart]()
	register.Iter1[[]byte]()
	register.Iter1[assignPart]()
}
