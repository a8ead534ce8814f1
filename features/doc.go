// Package features turns declarations into the numeric columns the tree
// models learn from: the fraud signals an analyst looks for, computed from a
// labelled history.
//
// The design is fit / transform. Fit reads the training history (Arrow record
// batches in the canonical schema of package risklane/decl) and
// returns a *State: code tables per categorical key, per-key counts and
// smoothed fraud rates, unit-value references per HS code. The state is saved
// as JSON in the model directory and applied batch by batch at scoring time
// (Transform, TransformRows), giving exactly the values computed when the
// model was trained.
//
// Every feature derived from labels is out-of-fold on the training rows: Fit
// splits the declarations into K seeded folds and gives each training row the
// statistics of the other folds only, so no row sees its own label. Rows
// scored later get the statistics of the whole history. Unseen codes fall back
// to their parent (HS6 to HS4 to HS2) and then to the global fraud rate.
//
// A smoothed fraud rate is (illicit + m * prior) / (labelled + m), m the
// smoothing (--smoothing). With Config.HalfLife (risklane train and simulate
// --risk-halflife DAYS) each labelled row counts 0.5^(age/HalfLife) instead
// of 1 in every rate, the prior and the out-of-fold ones alike, age the days
// between the history's latest date and the row's (a row without a date
// counts as the oldest dated one), so the rates follow fraud that changed
// lately rather than the whole history's mean. The state records the
// half-life (features.json half_life, absent when off); counts and
// unit-value references stay unweighted, and Assemble, whose counts carry
// no dates, refuses it.
//
// Features come in groups that can be switched on and off (the --features
// ablation switch of risklane train):
//
//	hs         HS2, HS4, HS6 as numbers; log value, log mass, log quantity
//	unitvalue  value per kg and per unit, and its position against the HS6 and
//	           HS6-by-origin reference: robust z-score, percentile, ratio to
//	           the median (HS4, HS2 and then all rows when HS6 is sparse)
//	tax        tax rate, duty at stake, total taxes and their ratio to value
//	risk       smoothed fraud rates of the goods and their route: HS2/4/6,
//	           origin, departure and HS6 x origin
//	freq       how often each of those keys appears in the history
//	traders    the history of the parties: fraud rates and counts of
//	           importer, declarant, seller, office, importer x HS6,
//	           declarant x importer and office x importer
//	date       day of week, month, day of month
//	extras     the profile's extra categorical attributes: code, frequency and
//	           fraud rate
//
// Other packages add groups of their own through the Signal interface and
// Register (k-means price clusters, mirror gaps) without this package knowing
// them.
package features
