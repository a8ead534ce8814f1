package profile

import "risklane/decl"

var builtins = map[string]func() *Profile{
	"kcs":       KCS,
	"date":      DATE,
	"canonical": Canonical,
}

// KCS is the profile of the Korea Customs Service synthetic import
// declarations (Jeong, Kim, Park, Choi, "Customs Import Declaration
// Datasets", arXiv 2208.02484), as in ../shared/data/kcs: 22 columns,
// comma-separated, dates 2006-01-02, "." decimals, one row per item.
//
// Item Price (KRW, assessed value) is the CIF value and Net Mass the net mass
// in kg. Fraud is the illicit label; Critical Fraud (0/1/2) is kept as the
// label attribute critical_fraud. The other categorical columns are kept as
// extra attributes. The data has no revenue column, so revenue is the duty
// at stake on a fraudulent row: Item Price * Tax Rate / 100 when Fraud = 1,
// else 0.
//
// Every HS6 code in train.csv and valid.csv has six digits (1,756 of the
// 37,385 training rows start with 0, written as text, e.g. 010129), so no
// leading zeros were lost; HSCodePad 6 still restores one on copies that went
// through a spreadsheet. Declaration IDs are unique per row in both files
// (one row is one declaration there), so UniqueIDs rejects a repeated ID.
func KCS() *Profile {
	return &Profile{
		Name:        "kcs",
		Description: "Korea Customs Service synthetic import declarations (arXiv 2208.02484; ../shared/data/kcs)",
		Columns: map[string]string{
			decl.DeclarationID:    "Declaration ID",
			decl.Date:             "Date",
			decl.OfficeID:         "Office ID",
			decl.ImporterID:       "Importer ID",
			decl.DeclarantID:      "Declarant ID",
			decl.SellerID:         "Seller ID",
			decl.HSCode:           "HS6 Code",
			decl.OriginCountry:    "Country of Origin",
			decl.DepartureCountry: "Country of Departure",
			decl.NetMassKg:        "Net Mass",
			decl.CIFValue:         "Item Price",
			decl.TaxRate:          "Tax Rate",
			decl.Illicit:          "Fraud",
		},
		Extras: []Extra{
			{Source: "Process Type", Name: "process_type"},
			{Source: "Import Type", Name: "import_type"},
			{Source: "Import Use", Name: "import_use"},
			{Source: "Payment Type", Name: "payment_type"},
			{Source: "Mode of Transport", Name: "mode_of_transport"},
			{Source: "Courier ID", Name: "courier_id"},
			{Source: "Tax Type", Name: "tax_type"},
			{Source: "Country of Origin Indicator", Name: "country_of_origin_indicator"},
			{Source: "Critical Fraud", Name: "critical_fraud", Label: true},
		},
		DateLayouts:    []string{"2006-01-02"},
		HSCodePad:      6,
		UniqueIDs:      true,
		Illicit:        IllicitValues{Positive: []string{"1"}, Negative: []string{"0"}},
		RevenueFormula: "illicit * cif_value * tax_rate / 100",
	}
}

// DATE is the profile of the DATE / BACUDA declarations format (Kim et al.,
// "DATE: Dual Attentive Tree-aware Embedding for Customs Fraud Detection",
// KDD 2020), exactly as the DATE repository's
// data/synthetic-imports-declarations.csv is written (pandas to_csv,
// index=False): a header line and one row per item,
//
//	sgd.id,sgd.date,importer.id,declarant.id,country,office.id,tariff.code,quantity,gross.weight,fob.value,cif.value,total.taxes,illicit,revenue
//	SGD1,13-01-02,IMP56598,DEC575763,CNTRY376,OFFICE76,8703232926,1,96.305598,1530.677349,1943.388289,468.218151,0,0
//
// The layout in detail:
//   - comma-separated, one header line with these 14 names in this order (the
//     reader matches names, so the order does not matter to risklane), no
//     index column, "\n" line ends, UTF-8 (the original is plain ASCII);
//   - sgd.id: declaration id (SGD1, SGD2, ...); sgd.date: two-digit-year date
//     yy-mm-dd (Go layout 06-01-02; 00-68 mean 2000-2068 and 69-99 mean
//     1969-1999, as Python's %y); ISO 2006-01-02 is accepted as well;
//   - importer.id, declarant.id, country (origin), office.id: codes
//     (IMP..., DEC..., CNTRY..., OFFICE...);
//   - tariff.code: the 10-digit national tariff code as digits; pandas drops
//     the leading zero of chapters 01-09, so a 9-digit code gets it back
//     (HSCodePad 10); codes of 6 to 10 digits are accepted;
//   - quantity (integer count), gross.weight (kg), fob.value, cif.value,
//     total.taxes: non-negative numbers with "." decimals (plain or exponent
//     notation);
//   - illicit: 0 or 1 (empty = not inspected); revenue: the duty raised by
//     inspection, 0 on clean rows (empty = unknown).
//
// sgd.id is not required to be unique: in BACUDA data a declaration has one
// row per item.
func DATE() *Profile {
	return &Profile{
		Name:        "date",
		Description: "DATE / BACUDA 14-column declarations (KDD 2020, data/synthetic-imports-declarations.csv)",
		Columns: map[string]string{
			decl.DeclarationID: "sgd.id",
			decl.Date:          "sgd.date",
			decl.ImporterID:    "importer.id",
			decl.DeclarantID:   "declarant.id",
			decl.OriginCountry: "country",
			decl.OfficeID:      "office.id",
			decl.HSCode:        "tariff.code",
			decl.Quantity:      "quantity",
			decl.GrossWeightKg: "gross.weight",
			decl.FOBValue:      "fob.value",
			decl.CIFValue:      "cif.value",
			decl.TotalTaxes:    "total.taxes",
			decl.Illicit:       "illicit",
			decl.Revenue:       "revenue",
		},
		DateLayouts: []string{"06-01-02", "2006-01-02"},
		HSCodePad:   10,
		Illicit:     IllicitValues{Positive: []string{"1"}, Negative: []string{"0"}},
	}
}

// Canonical is the profile of risklane's own files (written by risklane
// generate or risklane ingest, in any of the three formats): columns carry
// the canonical names (decl.Columns) and are matched by name; canonical
// columns absent from a file are null; every other column is kept as an extra
// attribute under its own name. fraud_type (the generator's planted fraud
// type) is a label, and so is any column whose Parquet / Arrow field metadata
// marks it as one. Dates are 2006-01-02 in CSV, "." decimals.
func Canonical() *Profile {
	return &Profile{
		Name:        "canonical",
		Description: "risklane's own files: canonical column names, other columns kept as extras",
		ByName:      true,
		Labels:      []string{"fraud_type"},
		DateLayouts: []string{"2006-01-02"},
		Illicit:     IllicitValues{Positive: []string{"1"}, Negative: []string{"0"}},
	}
}
