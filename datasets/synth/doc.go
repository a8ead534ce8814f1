// Package synth generates synthetic customs import declarations with planted
// fraud, deterministic for a seed, streamed as Arrow record batches in the
// canonical schema (decl) plus mode_of_transport and the label
// fraud_type, together with the bilateral trade statistics (UN Comtrade
// layout) and a truth file of the flows it under-declared.
//
// It exists so that trainers can show, and tests can prove, that risklane's
// models, price clustering and mirror analysis find fraud whose truth is
// known. Every distribution below is part of the contract: change one and
// the detection tests of other packages may need new thresholds.
//
// # Catalogue
//
// NumHS codes are spread over 51 real HS2 chapters in proportion to a
// chapter weight; each chapter has headings (HS4) of 1 to 32 subheadings
// (HS6), each extended to a 10-digit national line. A code's FOB unit value
// (US$ per kg) is log-normal: ln uv ~ Normal(mu, sigma) with
// mu = ln(chapter median) + Normal(0, 0.5) per heading + Normal(0, 0.3) per
// subheading and sigma ~ Uniform(0.20, 0.40), shifted by the origin's price
// level, Normal(0, 0.12) per country. The ad-valorem duty is 5% times a band
// 0..6 (0% to 30%): the chapter's band, plus -1/0/+1 (uniform) per heading,
// plus -1/0/+1 (probabilities 1/4, 1/2, 1/4) per subheading, clamped.
// Preferential partners (the EAC and COMESA members) enter duty free.
// Popularity is Zipf (exponent 0.75) over a random order of the codes. Each
// code is supplied by 2 to 8 origins drawn by country weight (China 25,
// India 10, UAE 8, ...), each with a share weight times exp(Normal(0, 0.8)).
//
// # Traders
//
// Importer activity is Zipf (exponent 0.8). An importer trades
// 1 + floor(Exp(mean 2)) (at most 12) lines, each an HS6 code (by
// popularity), an origin (by the code's origin shares), a seller from that
// origin and a weight exp(Normal(0, 1)). 3% of importers are repeat
// offenders (fraud propensity 8), 12% occasional (1.5), the rest clean
// (0.2), each times exp(Normal(0, 0.3)); each has a preferred fraud type
// drawn from undervaluation 45%, misclassification 30%, origin 25%, used for
// 80% of its frauds (the rest drawn from the same mix). Importers use 1
// (60%), 2 (30%) or 3 (10%) declarants (brokers), picked by broker Zipf
// (exponent 1.0), the first carrying 70% of the rows; 6% of brokers are
// complicit (propensity times 2.5) and an offender's main broker is
// complicit with probability 1/2. A row's fraud probability is
// min(0.9, k * propensity), k calibrated so that the expected fraud rate
// equals Config.FraudRate exactly. Rows on duty-free lines (zero duty or a
// preferential origin) are never fraudulent: evasion gains nothing there.
//
// Offices: NumOffices/6 sea ports, NumOffices/6 airports, the rest road
// border posts, Zipf (exponent 1.2) within a mode. Goods from neighbours
// arrive by road (10% by air); others by sea, or by air with probability
// 0.05 + 0.1 log10(median unit value) clamped to [0.03, 0.6]. 15% of
// overseas goods depart from a transhipment hub (ARE, NLD, BEL, SGP).
//
// # A row
//
// Shipment value ~ exp(Normal(ln V, 1.1)) with ln V = ln 14,765 +
// Normal(0, 0.6) per code; net mass = value / unit value (0.1 kg, at least
// 0.1), FOB = mass * unit value (cents), CIF = FOB * (1 + m), m the flow's
// margin ~ Uniform(0.06, 0.14) per origin and code plus Uniform(-0.01, 0.01)
// per row. Gross = net * (1 + packaging), packaging ~ Uniform(0.03, 0.15)
// (bulk goods: Uniform(0.005, 0.025)). Quantity is the net mass for bulk
// chapters, else the number of units (net mass over the code's unit weight,
// times exp(Normal(0, 0.1)), at least 1). tax_rate is the declared duty in
// percent; total_taxes = declared CIF * tax_rate / 100 (cents). Rows are in
// date order; days weigh 1 (Monday to Friday), 0.45 (Saturday), 0.15
// (Sunday), times 1 + 0.10 cos(2 pi (day of year - 330) / 365).
//
// # Fraud
//
//   - undervaluation: declared FOB = true FOB * (1 - c), c ~ Uniform(0.3,
//     0.9), CIF scaled alike; mass and quantity are true, so the unit value
//     falls into the low tail of the code's distribution.
//   - misclassification: declared under a lower-duty code of the same
//     heading (70% when both exist) or else of the same chapter, at the true
//     value, so the unit value is the true code's.
//   - origin: declared origin is a preferential partner (five times as
//     likely if it really supplies the code), so the duty falls to zero; the
//     goods still travel like the true origin's, departing from it (40%), a
//     hub (40%) or the claimed partner (20%).
//
// illicit is 1 for a fraudulent row, revenue = true duty - declared duty
// (> 0; 0 for clean rows); both are null on rows not inspected, drawn
// uniformly with probability Config.LabelRate. A fraud that would change
// the duty by less than a cent is not planted.
//
// # Planted under-declared flows
//
// Config.UnderdeclaredFlows partner-by-HS6 pairs (dutiable, non-preferential
// partner) with an expected share of rows near min(0.2%, 0.4 * FraudRate /
// (0.6 * flows)), preferring pairs traded by several importers and of high
// value, have 60% of their rows undervalued (as above), whoever the
// importer; no other fraud moves rows into or out of them. Their expected
// fraud counts toward FraudRate. Generator.Truth names them with the duty
// lost; Generator.TradeStatistics shows them as reporter imports far below
// the partner's exports.
//
// # Streams
//
// Setup, rows, fraud and inspection draw from separate PCG streams of
// math/rand/v2 seeded with Config.Seed, so the same declarations carry
// different fraud for a different rate, and different labels for a
// different label rate.
package synth
