// Package rules turns a gradient-boosted tree ensemble into readable fraud
// rules, the "extracting machine's fraud detection rules" exercise of the WCO
// BACUDA programme (series 9):
//
//	HS4 = 8703 and value per kg < 1,240 and importer's past fraud rate >= 20%
//	  ->  support 312 (0.8%), fraud rate 71% (lift 3.3)
//
// Every root-to-leaf path of every tree is a rule. Its conditions are
// simplified: the splits on one feature along the path become one interval
// [Lo, Hi) with a flag saying whether a missing value takes the path too (it
// does when every split on the feature sent missing values the path's way).
// A feature that holds codes (an HS heading, a label-encoded attribute; the
// Namer's Kind says which) is written as the set of codes the data has in
// that interval ("HS4 in {8703, 8704}"), as the few codes it excludes, or as
// a range of ordered codes. Thresholds are shown in the units of the raw
// feature through the Namer: FeatureNamer phrases a fitted feature layer's
// features with the sentence table of the scoring reasons
// (risklane/pipeline/score), so a rule and a reason name a feature the same,
// and writes label-encoded attributes through the layer's code tables.
//
// The training rows are routed through the trees to measure each rule:
// support (labelled rows reaching the leaf, and their share), fraud rate
// (share of illicit among them) and lift (fraud rate over the base rate).
// Routing reads the feature columns directly, one goroutine per tree at a
// time, with no allocation per row. ModelData prepares those columns for a
// trained risk model: on its own training history, the out-of-fold features
// the trees were trained on, so that fraud rates are not flattered by
// features that have seen each row's label.
//
// Rules are ranked by one of three criteria (Options.Rank):
//
//   - ByZ (the default): the binomial z-score of the leaf's fraud rate
//     against the base rate, (p - p0) * sqrt(n) / sqrt(p0 * (1 - p0)). It
//     grows with both the fraud rate and the support, so a rule that is
//     sharp but rare and one that is broad but mild are weighed on one scale:
//     how surprising the leaf's illicit count would be if the rule knew
//     nothing.
//   - ByRate: the fraud rate itself; use it with a minimum support.
//   - ByValue: the leaf's output, its contribution to the log-odds.
//
// Ties go to the larger support, then to the earlier tree and leaf.
//
// Boosting repeats itself: many trees carve out nearly the same declarations.
// Two rules are near-identical when the sets of rows they reach overlap with
// a Jaccard similarity of at least Options.Similarity; the lower-ranked one is
// dropped and counted in the kept rule's Similar. Row sets are compared
// through bottom-k sketches of row hashes (exact when both rules reach at most
// 64 rows), so deduplication costs a few kilobytes per rule, not a bitmap
// per leaf.
package rules
