// Package stage builds risklane's stages as Apache Beam transforms, so that
// the same pipeline runs on Prism (one machine, the tests), Flink, Spark or
// Google Dataflow (docs/beam.md). Every stage calls risklane's own packages
// (ingest, pipeline/score, pipeline/rank, ...) inside its DoFns; what this
// package adds is only how the work is split, shuffled and joined.
package stage
