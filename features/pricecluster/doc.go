// Package pricecluster finds undervalued declarations by k-means clustering
// of unit values per product (BACUDA series 12: "Fraud Detection with
// K-means clustering").
//
// # Unit values and groups
//
// A declaration's unit value is its customs value per kg of mass, or per
// unit of quantity when the mass is zero or missing; values per kg and per
// unit are never compared, so every group holds one basis. Clustering works
// on natural logs of unit values, where a price ratio is a distance.
//
// Groups are HS6 subheadings with at least Config.MinGroupRows (30) training
// rows. Rows of smaller subheadings, and at Apply time of subheadings never
// seen, use their HS4 heading (fitted on all its rows when it has at least
// MinGroupRows), and failing that one global group per basis.
//
// # Clustering
//
// In each group, k-means runs for every k from Config.KMin to Config.KMax
// (2 to 5), each with Config.Restarts (4) starts of greedy k-means++ seeding
// followed by Lloyd iterations, keeping the start of lowest inertia; k is the
// one whose partition has the highest mean silhouette coefficient (the smaller
// k on ties). A group with a single distinct price gets one cluster. In one
// dimension the points are sorted once: every nearest-centre partition is
// then a run of intervals, so seeding, Lloyd steps and the exact silhouette
// cost O(k log n), O(k log n) and O(n) through prefix sums. With
// Config.ValueMass the points are (log unit value, log value, log mass),
// each standardised per group, clustered by plain Lloyd; the silhouette is
// then computed on an even sample of Config.SilhouetteSample points. Each
// group draws from its own random stream seeded by Config.Seed and the
// group's key, so the fit is deterministic whatever the number of workers.
//
// # Low clusters
//
// Clusters are ranked by centre (rank 0 is the cheapest). A cluster is low
// when its centre lies at least max(Config.LowMinGap, Config.LowSpreads *
// sigma) below the group's median log unit value, sigma = IQR/1.349 being the
// group's robust standard deviation; the defaults 0.5 and 1.5 flag a cluster
// whose typical price is at most 61% of the median and clearly apart from the
// bulk. The most expensive cluster is never low.
//
// # Use
//
// Fit learns a Model from training declarations, columns in and a Model out;
// Model.Apply assigns new declarations batch by batch to the nearest centre of
// their group and returns, per row, the cluster rank, the low-cluster flag,
// the distance to the group median in log units and the unit-value percentile
// within the group (Assignment.Features gives them as model features). The
// Model saves as JSON (WriteJSON, ReadModel). GroupTable and ReferencePrices
// export what was learnt for analysts.
//
// Signal puts the same clusters into a risk model: it is the feature group
// "cluster" of package risklane/features (registered when this package is
// linked in), fitted on the training declarations, saved in the model's
// feature state and applied batch by batch when the model scores.
package pricecluster
