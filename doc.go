// Package risklane ranks customs import declarations for inspection. This
// root package holds no code: it documents the layout, and its test keeps
// the layers honest (layers_test.go).
//
// A declaration flows upward through the folders, each layer importing only
// the layers below it:
//
//	decl, sink, stats      ground floor: the canonical schema and typed column
//	                       access, atomic outputs, shared statistics
//	ingest, ingest/profile source files -> validated Arrow batches + rejects
//	datasets/...           synthetic declarations and the embedded demo data
//	features/...           feature groups fitted on history, applied per batch
//	models/...             model kinds behind one seam (models.Model), their
//	                       files, metrics, explanations and rules
//	pipeline/...           the stages of a run: score, rank, run, report
//	cmd/risklane           the one binary
//
// docs/DESIGN.md is the reference for the contracts between them.
package risklane
