package profile_test

import (
	"fmt"

	"risklane/ingest/profile"
)

func ExampleParse() {
	p, err := profile.Parse([]byte(`name: office_x
columns:
  declaration_id: DECL_NO
  date: DECL_DATE
  hs_code: HS
  net_mass_kg: NET_KG
  cif_value: CIF
  illicit: RESULT
delimiter: ";"
decimal: ","
date_layouts: ["02/01/2006"]
illicit_values: {positive: ["Y"], negative: ["N"]}
revenue_formula: illicit * cif_value * 0.15
`), "office_x.yaml")
	fmt.Println(p.Name, string(p.Comma()), p.Formula().Columns(), err)

	_, err = profile.Parse([]byte("name: typo\ndate_layouts: [\"2006-01-02\"]\ncolumns:\n  declaration_id: ID\n  dte: D\n"), "typo.yaml")
	fmt.Println(err)
	// Output:
	// office_x ; [illicit cif_value] <nil>
	// profile typo.yaml: line 5: columns: unknown canonical column "dte" (did you mean date?); the canonical columns are declaration_id, date, office_id, importer_id, declarant_id, seller_id, hs_code, origin_country, departure_country, quantity, net_mass_kg, gross_weight_kg, fob_value, cif_value, tax_rate, total_taxes, illicit, revenue
	// line 3: columns: required column date is not mapped
	// line 3: columns: required column hs_code is not mapped
	// line 3: columns: map at least one of quantity, net_mass_kg, gross_weight_kg
	// line 3: columns: map at least one of fob_value, cif_value
}
