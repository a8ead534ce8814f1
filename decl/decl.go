// Package decl defines the canonical declaration schema: the Arrow columns that
// every stage of risklane reads and writes, whatever the source format was.
//
// One row is one item of a customs declaration. Profiles (package
// risklane/ingest/profile) map a source's columns onto these names.
package decl

import "github.com/apache/arrow-go/v18/arrow"

// Canonical column names.
const (
	DeclarationID    = "declaration_id"
	Date             = "date"
	OfficeID         = "office_id"
	ImporterID       = "importer_id"
	DeclarantID      = "declarant_id"
	SellerID         = "seller_id"
	HSCode           = "hs_code"
	OriginCountry    = "origin_country"
	DepartureCountry = "departure_country"
	Quantity         = "quantity"
	NetMassKg        = "net_mass_kg"
	GrossWeightKg    = "gross_weight_kg"
	FOBValue         = "fob_value"
	CIFValue         = "cif_value"
	TaxRate          = "tax_rate"
	TotalTaxes       = "total_taxes"
	Illicit          = "illicit"
	Revenue          = "revenue"
)

// Column describes one canonical column.
type Column struct {
	Name string
	Type arrow.DataType
	// Required columns must be present in every source and non-empty in every row.
	Required bool
	// Label columns are outcomes of inspection; they are never model inputs.
	Label bool
}

// Columns lists the canonical columns in schema order. Extra categorical
// attributes named by a profile follow them, as strings.
var Columns = []Column{
	{Name: DeclarationID, Type: arrow.BinaryTypes.String, Required: true},
	{Name: Date, Type: arrow.FixedWidthTypes.Date32, Required: true},
	{Name: OfficeID, Type: arrow.BinaryTypes.String},
	{Name: ImporterID, Type: arrow.BinaryTypes.String},
	{Name: DeclarantID, Type: arrow.BinaryTypes.String},
	{Name: SellerID, Type: arrow.BinaryTypes.String},
	{Name: HSCode, Type: arrow.BinaryTypes.String, Required: true},
	{Name: OriginCountry, Type: arrow.BinaryTypes.String},
	{Name: DepartureCountry, Type: arrow.BinaryTypes.String},
	{Name: Quantity, Type: arrow.PrimitiveTypes.Float64},
	{Name: NetMassKg, Type: arrow.PrimitiveTypes.Float64},
	{Name: GrossWeightKg, Type: arrow.PrimitiveTypes.Float64},
	{Name: FOBValue, Type: arrow.PrimitiveTypes.Float64},
	{Name: CIFValue, Type: arrow.PrimitiveTypes.Float64},
	{Name: TaxRate, Type: arrow.PrimitiveTypes.Float64},
	{Name: TotalTaxes, Type: arrow.PrimitiveTypes.Float64},
	{Name: Illicit, Type: arrow.PrimitiveTypes.Int8, Label: true},
	{Name: Revenue, Type: arrow.PrimitiveTypes.Float64, Label: true},
}

// Schema returns the canonical Arrow schema followed by the given extra
// string attributes. Every field is nullable: optional columns and unlabelled
// rows are nulls, and required columns are enforced by validation, not by the
// Arrow type.
func Schema(extra ...string) *arrow.Schema {
	fields := make([]arrow.Field, len(extra))
	for i, e := range extra {
		fields[i] = arrow.Field{Name: e, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	return SchemaFields(fields)
}

// SchemaFields returns the canonical Arrow schema followed by the given extra
// fields (strings; use LabelField for extra labels).
func SchemaFields(extra []arrow.Field) *arrow.Schema {
	fields := make([]arrow.Field, 0, len(Columns)+len(extra))
	for _, c := range Columns {
		fields = append(fields, arrow.Field{Name: c.Name, Type: c.Type, Nullable: true})
	}
	fields = append(fields, extra...)
	return arrow.NewSchema(fields, nil)
}

// Lookup returns the canonical column with the given name.
func Lookup(name string) (Column, bool) {
	for _, c := range Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Extras returns the names of the fields of s that are not canonical columns,
// in schema order.
func Extras(s *arrow.Schema) []string {
	var out []string
	for _, f := range s.Fields() {
		if _, ok := Lookup(f.Name); !ok {
			out = append(out, f.Name)
		}
	}
	return out
}

// RoleKey is the Arrow field-metadata key that marks the role of an extra
// column. Extra columns are model inputs unless marked RoleLabel.
const RoleKey = "risklane.role"

// RoleLabel marks an extra column that is an outcome of inspection (for
// example a fraud type or a severity), never a model input.
const RoleLabel = "label"

// LabelField returns a nullable string field marked as a label.
func LabelField(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true,
		Metadata: arrow.NewMetadata([]string{RoleKey}, []string{RoleLabel})}
}

// IsLabel reports whether f is a label: a canonical label column or an extra
// column whose metadata marks it as one.
func IsLabel(f arrow.Field) bool {
	if c, ok := Lookup(f.Name); ok {
		return c.Label
	}
	v, ok := f.Metadata.GetValue(RoleKey)
	return ok && v == RoleLabel
}

// Release-time columns (the WCO Time Release Study's milestones). They are
// optional and not part of Columns: a source that has them maps them as
// extra attributes under these names (a profile's extras, or by name), as
// local date-times in TimestampLayout (seconds optional), and only the
// release-time analysis reads them. Files without them are read, and
// written, exactly as before. docs/release-time.md describes the stages.
const (
	ArrivalTime         = "arrival_time"
	LodgementTime       = "lodgement_time"
	AssessmentTime      = "assessment_time"
	InspectionStartTime = "inspection_start_time"
	InspectionEndTime   = "inspection_end_time"
	PaymentTime         = "payment_time"
	ReleaseTime         = "release_time"
	// Lane is the control channel assigned at assessment: green (released
	// without control), yellow (documentary check) or red (physical
	// inspection).
	Lane = "lane"
	// ModeOfTransport is the mode at the border: sea, air, road, ...
	ModeOfTransport = "mode_of_transport"
)

// Timestamps lists the release-time milestones in the order they happen.
var Timestamps = []string{ArrivalTime, LodgementTime, AssessmentTime, InspectionStartTime,
	InspectionEndTime, PaymentTime, ReleaseTime}

// TimestampLayout is the layout of a release-time milestone: ISO 8601 local
// date and time; ":05" seconds may be left off.
const TimestampLayout = "2006-01-02T15:04:05"
