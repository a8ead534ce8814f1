// Package mirror compares a country's imports with its partners' exports of
// the same goods (mirror analysis, WCO BACUDA series 1 and 3): if Kenya
// records importing 100 of a product from China while China records
// exporting 300 of it to Kenya, something is wrong (undervaluation,
// misclassification, smuggling), and the duty on the difference is revenue
// at stake.
//
// Reading: Reader streams UN Comtrade statistics in the bulk-download CSV
// layout (what `risklane generate` writes) or the current API's CSV layout,
// gzip or not, recognised from the header. Codes are taken as Comtrade
// writes them: countries by ISO3 code or Comtrade number (Country), partner 0
// / WLD / W00 for World, commodity TOTAL and HS2/HS4/HS6 aggregate levels,
// HS codes that lost their leading zero in a spreadsheet, "NA" and empty
// cells for missing values. A row that cannot be used becomes a Reject with
// file, line, column, value and reason; a summary reconciles rows read with
// rows used and rejected.
//
// Analysis: Builder (or Analyze) pairs the reporter's imports from each
// partner with the partner's exports to the reporter, per HS6 and period
// (year or month), converts CIF to FOB (DefaultCIFFOB) and computes value,
// quantity, weight and unit-value gaps, flags undervaluation and
// misclassification, ranks the flows and estimates the revenue gap from a
// tariff table (ReadTariffs) or the rates seen in declarations
// (EffectiveRates); Builder.Gaps documents the rules. Money is kept in integer
// cents (Cents) so that HS4, HS2 and total roll-ups reconcile to the cent.
//
// Signals: Gaps.Signals builds a dictionary that gives each declaration the
// gap statistics of its origin-by-HS6-by-year flow (falling back to HS4 and
// HS2), saved as JSON with a model and applied to batches column by column.
// Feature makes it the feature group "mirror" of package risklane/features
// (registered when this package is linked in): NewFeature builds the
// dictionary from trade-statistics files when the model is trained.
package mirror
