package stage

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
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
	// Clusters is the fitted model (JSON), as risklane cluster --clusters
	// writes it; Groups, if not "", the group table as its --out.groups
	// file.
	Clusters, Groups string
	Rejects          string // rejected rows (CSV); "" for none
	// BatchSize is the rows per record batch read (0: ingest's default).
	BatchSize int
}

// Cluster adds the price-cluster fit to the pipeline:
//
//	files -> read (rejects: a side output); every row with a unit value
//	         keyed by each group pricecluster.GroupsOf puts it in
//	      -> GroupByKey(group): the group's rows in Fit's order (HS6, then
//	         input order), one pricecluster.FitGroup each, seeded per group
//	         as Fit seeds it
//	      -> one writer: pricecluster.NewModel, the model and group table
//
// The model is byte-identical to risklane cluster's
// (TestClusterEqualsRisklaneCluster). Clustering needs no labels.
func Cluster(s beam.Scope, cfg ClusterConfig) error {
	s = s.Scope("cluster")
	groups := clusterGroups(s, cfg.Inputs, cfg.Profile, cfg.BatchSize, cfg.Config, cfg.Rejects)
	beam.ParDo0(s, &writeClustersFn{Config: cfg.Config, Clusters: cfg.Clusters, Groups: cfg.Groups},
		beam.GroupByKey(s, beam.AddFixedKey(s, groups)))
	return nil
}

// clusterGroups returns the fitted groups (pricecluster.Group as JSON).
func clusterGroups(s beam.Scope, inputs []string, prof string, batchSize int, cfg pricecluster.Config, rejects string) beam.PCollection {
	in := beam.CreateList(s, filesOf(inputs))
	rows, rej := beam.ParDo2(s, &clusterRowsFn{Profile: prof, BatchSize: batchSize}, in)
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
	prof      *profile.Profile
}

func (f *clusterRowsFn) Setup() error {
	var err error
	f.prof, err = profile.Resolve(f.Profile)
	return err
}

func (f *clusterRowsFn) ProcessElement(in fileIn, emit func(int64, clusterRow), reject func(rejectRow)) error {
	var rows pricecluster.Rows
	var ord int64
	return readDecl(f.prof, in, ingest.Options{BatchSize: f.BatchSize}, reject, func(rec arrow.RecordBatch) error {
		return emitClusterRows(in, rec, &rows, &ord, emit)
	})
}

// emitClusterRows emits each row of rec under every price-cluster group it
// belongs to, numbered from *ord in file order (Fit's order within a group);
// rows is scratch reused across batches. The cluster and fit stages share it.
func emitClusterRows(in fileIn, rec arrow.RecordBatch, rows *pricecluster.Rows, ord *int64, emit func(int64, clusterRow)) error {
	rows.Reset()
	if err := rows.Append(rec); err != nil {
		return fmt.Errorf("%s: %w", in.Path, err)
	}
	for i := range rows.HS6 {
		r := clusterRow{File: in.Index, Ord: *ord, HS6: rows.HS6[i], Value: rows.Value[i], Mass: rows.Mass[i], Qty: rows.Qty[i]}
		for _, k := range pricecluster.GroupsOf(r.HS6, r.Value, r.Mass, r.Qty) {
			emit(groupID(k), r)
		}
		*ord++
	}
	return nil
}

// fitGroupFn fits one group on its rows, in Fit's order.
type fitGroupFn struct {
	Config pricecluster.Config
}

func (f *fitGroupFn) ProcessElement(id int64, rows func(*clusterRow) bool, emit func([]byte)) error {
	var all []clusterRow
	var r clusterRow
	for rows(&r) {
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b clusterRow) int {
		return cmp.Or(cmp.Compare(a.HS6, b.HS6), cmp.Compare(a.File, b.File), cmp.Compare(a.Ord, b.Ord))
	})
	value, mass, qty := make([]float64, len(all)), make([]float64, len(all)), make([]float64, len(all))
	for i, r := range all {
		value[i], mass[i], qty[i] = r.Value, r.Mass, r.Qty
	}
	g, ok, err := pricecluster.FitGroup(groupOf(id), value, mass, qty, f.Config)
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

// writeClustersFn writes the model and its group table.
type writeClustersFn struct {
	Config           pricecluster.Config
	Clusters, Groups string
}

func (f *writeClustersFn) ProcessElement(_ int, groups func(*[]byte) bool) error {
	m, err := modelOf(f.Config, groups)
	if err != nil {
		return err
	}
	if f.Groups != "" {
		t := m.GroupTable(memory.DefaultAllocator)
		defer t.Release()
		if err := sink.WriteTable(f.Groups, t); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := m.WriteJSON(&buf); err != nil {
		return err
	}
	return sink.WriteFileAtomic(f.Clusters, buf.Bytes())
}

func init() {
	register.DoFn3x1[fileIn, func(int64, clusterRow), func(rejectRow), error](&clusterRowsFn{})
	register.DoFn3x1[int64, func(*clusterRow) bool, func([]byte), error](&fitGroupFn{})
	register.DoFn2x1[int, func(*[]byte) bool, error](&writeClustersFn{})
	register.Emitter2[int64, clusterRow]()
	register.Emitter1[[]byte]()
	register.Iter1[clusterRow]()
	register.Iter1[[]byte]()
}
