package synth

import (
	"fmt"
	"strings"
	"time"
)

// Config says what to generate. Start from DefaultConfig and change fields:
// zero values are taken literally (a zero LabelRate means no row is labelled).
type Config struct {
	// Rows is the number of declaration rows.
	Rows int64
	// Seed makes the output reproducible: the same Config gives the same
	// bytes.
	Seed uint64
	// FraudRate is the expected share of fraudulent rows, planted flows
	// included.
	FraudRate float64
	// LabelRate is the share of rows that were inspected; the others have
	// null illicit and revenue labels.
	LabelRate float64
	// Start and End bound the declaration dates (both days included).
	Start, End time.Time
	// Reporter is the ISO3 code of the administration's country, the
	// reporter of the trade statistics (see Reporters for the accepted codes).
	Reporter string
	// NumHS is the number of HS6 codes in the catalogue.
	NumHS int
	// NumImporters, NumDeclarants, NumSellers and NumOffices size the
	// populations of traders and customs offices.
	NumImporters, NumDeclarants, NumSellers, NumOffices int
	// UnderdeclaredFlows is the number of partner-by-HS6 flows that are
	// systematically under-declared at import.
	UnderdeclaredFlows int
	// BatchSize is the number of rows per record batch.
	BatchSize int
	// Timestamps adds the release-time columns: the lane and the milestones
	// of decl.Timestamps (see timestamps.go for the behaviour). They come from
	// their own random stream: every other column is the same without them.
	Timestamps bool
	// Drift moves the fraud patterns and prices at a date (drift.go); its
	// zero value moves nothing.
	Drift Drift
}

// DefaultConfig returns the documented defaults: one million rows of 2024,
// 6% fraud, every row labelled, reporter Kenya (KEN).
func DefaultConfig() Config {
	return Config{
		Rows:               1_000_000,
		Seed:               1,
		FraudRate:          0.06,
		LabelRate:          1,
		Start:              time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		End:                time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC),
		Reporter:           "KEN",
		NumHS:              300,
		NumImporters:       5000,
		NumDeclarants:      250,
		NumSellers:         3000,
		NumOffices:         12,
		UnderdeclaredFlows: 20,
		BatchSize:          16 * 1024,
	}
}

// Limits on Config fields.
const (
	MaxRows  = 1 << 40
	maxDays  = 50 * 366
	maxBatch = 1 << 22
)

// Validate reports the first field that is out of range, saying what to do.
func (c Config) Validate() error {
	switch {
	case c.Rows < 1 || c.Rows > MaxRows:
		return fmt.Errorf("rows = %d: give between 1 and %d", c.Rows, int64(MaxRows))
	case !(c.FraudRate >= 0 && c.FraudRate < 1):
		return fmt.Errorf("fraud rate = %v: give a share in [0, 1), for example 0.06", c.FraudRate)
	case !(c.LabelRate >= 0 && c.LabelRate <= 1):
		return fmt.Errorf("label rate = %v: give a share in [0, 1]; 1 labels every row", c.LabelRate)
	case c.Start.IsZero() || c.End.IsZero():
		return fmt.Errorf("the date range is not set: give a start and an end date")
	case day(c.End) < day(c.Start):
		return fmt.Errorf("date range %s to %s ends before it starts", c.Start.Format(time.DateOnly), c.End.Format(time.DateOnly))
	case day(c.End)-day(c.Start) >= maxDays:
		return fmt.Errorf("date range %s to %s is longer than 50 years", c.Start.Format(time.DateOnly), c.End.Format(time.DateOnly))
	case c.NumHS < 2 || c.NumHS > MaxHS:
		return fmt.Errorf("HS codes = %d: give between 2 and %d", c.NumHS, MaxHS)
	case c.NumImporters < 1 || c.NumImporters > 900_000:
		return fmt.Errorf("importers = %d: give between 1 and 900000", c.NumImporters)
	case c.NumDeclarants < 1 || c.NumDeclarants > 90_000:
		return fmt.Errorf("declarants = %d: give between 1 and 90000", c.NumDeclarants)
	case c.NumSellers < 1 || c.NumSellers > 900_000:
		return fmt.Errorf("sellers = %d: give between 1 and 900000", c.NumSellers)
	case c.NumOffices < 3 || c.NumOffices > 99:
		return fmt.Errorf("offices = %d: give between 3 and 99 (at least one sea, air and road office)", c.NumOffices)
	case c.UnderdeclaredFlows < 0:
		return fmt.Errorf("under-declared flows = %d: give 0 or more", c.UnderdeclaredFlows)
	case c.BatchSize < 1 || c.BatchSize > maxBatch:
		return fmt.Errorf("batch size = %d: give between 1 and %d", c.BatchSize, maxBatch)
	}
	if err := c.Drift.validate(c); err != nil {
		return err
	}
	if _, ok := lookupCountry(c.Reporter); !ok {
		return fmt.Errorf("reporter %q is not a known country; use one of %s", c.Reporter, strings.Join(Reporters(), ", "))
	}
	return nil
}

// day returns the number of days since 1970-01-01 of t's calendar date.
func day(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}
