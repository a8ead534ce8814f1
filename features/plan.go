package features

import (
	"slices"
	"strconv"

	"risklane/decl"
)

// A plan is the list of keys and features that a set of groups yields on
// the columns a history has. Fit derives it from the training batches; a
// loaded state derives it again from its saved groups, columns and extras,
// and checks that the result names the features the file says.
type plan struct {
	keys    []keyDef
	feats   []featDef
	columns []string // canonical input columns read, in decl.Columns order
	extras  []string
	bases   []basis
	signals []Signal
}

// keyDef is a categorical key: one column, an HS level, or a pair of keys.
type keyDef struct {
	name   string
	col    string // source column of a single key; decl.HSCode for HS levels
	digits int    // 2, 4 or 6 for HS levels
	a, b   int    // component keys of a pair; -1 for single keys
	parent int    // key a rate is smoothed towards; -1 for the global prior
	extra  bool   // an extra attribute of the profile (group extras)
	party  bool   // a trader or office key (group traders)
}

func (k keyDef) isPair() bool { return k.a >= 0 }

type fkind uint8

const (
	fHS         fkind = iota // HS level as a number; arg = digits
	fLog                     // log1p of a numeric input; arg = input
	fCIFFOB                  // CIF / FOB
	fLogUV                   // log unit value; arg = basis
	fUVZ                     // robust z against the HS reference; arg = basis
	fUVPct                   // percentile in the HS reference; arg = basis
	fUVRatio                 // unit value / HS reference median; arg = basis
	fUVZOrigin               // robust z against the HS6 x origin reference; arg = basis
	fTaxRate                 // tax rate in percent
	fLogDuty                 // log1p(value * rate / 100)
	fTaxToValue              // total taxes / value
	fRisk                    // smoothed fraud rate; key
	fFreq                    // rows with this key in the history; key
	fCode                    // code of the key's value; key
	fWeekday
	fMonth
	fDay
	fSignal // column arg of signal key
)

type featDef struct {
	name  string
	group string
	kind  fkind
	key   int
	arg   int
}

// Numeric inputs: canonical float columns, and two coalesced ones.
const (
	numQty = iota
	numNet
	numGross
	numFOB
	numCIF
	numTaxRate
	numTaxes
	numValue // decl.CustomsValue: CIF, else FOB
	numMass  // decl.Mass: net mass, else gross weight
	nNum
)

var numColumns = [numValue]string{decl.Quantity, decl.NetMassKg, decl.GrossWeightKg, decl.FOBValue, decl.CIFValue, decl.TaxRate, decl.TotalTaxes}

// basis of a unit value.
type basis uint8

const (
	perKg basis = iota
	perUnit
)

func (b basis) String() string {
	if b == perKg {
		return "kg"
	}
	return "unit"
}

func (b basis) input() int {
	if b == perKg {
		return numMass
	}
	return numQty
}

// HS levels of a unit-value reference, most specific first; refGlobal is the
// whole history.
const (
	refHS6 = iota
	refHS4
	refHS2
	refHS6Origin
	refGlobal
	nRef
)

var refNames = [nRef]string{"hs6", "hs4", "hs2", "hs6_origin", "global"}

// Number of stored quantiles of a reference (every 5%).
const nQuantiles = 21

// standard keys, in an order where parents and components come first.
var standardKeys = []keyDef{
	{name: "office", col: decl.OfficeID, party: true},
	{name: "importer", col: decl.ImporterID, party: true},
	{name: "declarant", col: decl.DeclarantID, party: true},
	{name: "seller", col: decl.SellerID, party: true},
	{name: "origin", col: decl.OriginCountry},
	{name: "departure", col: decl.DepartureCountry},
	{name: "hs2", col: decl.HSCode, digits: 2},
	{name: "hs4", col: decl.HSCode, digits: 4},
	{name: "hs6", col: decl.HSCode, digits: 6},
}

var standardPairs = []struct {
	name, a, b string
	party      bool
}{
	{"importer_hs6", "importer", "hs6", true},
	{"hs6_origin", "hs6", "origin", false},
	{"declarant_importer", "declarant", "importer", true},
	{"office_importer", "office", "importer", true},
}

// makePlan derives keys and features. has reports whether a canonical
// column is present with data; extras are the extra attributes to use.
func makePlan(groups []string, has func(col string) bool, extras []string, signals []Signal) plan {
	on := func(g string) bool { return slices.Contains(groups, g) }
	var p plan
	cols := map[string]bool{}
	use := func(c ...string) {
		for _, x := range c {
			cols[x] = true
		}
	}
	numHas := func(n int) bool {
		switch n {
		case numValue:
			return has(decl.CIFValue) || has(decl.FOBValue)
		case numMass:
			return has(decl.NetMassKg) || has(decl.GrossWeightKg)
		}
		return has(numColumns[n])
	}
	useNum := func(n int) {
		switch n {
		case numValue:
			for _, c := range []string{decl.CIFValue, decl.FOBValue} {
				if has(c) {
					use(c)
				}
			}
		case numMass:
			for _, c := range []string{decl.NetMassKg, decl.GrossWeightKg} {
				if has(c) {
					use(c)
				}
			}
		default:
			use(numColumns[n])
		}
	}
	add := func(f featDef) { p.feats = append(p.feats, f) }

	keyIndex := map[string]int{}
	needKeys := on(GroupRisk) || on(GroupFreq) || on(GroupUnitValue) || on(GroupTraders)
	if needKeys {
		for _, k := range standardKeys {
			if !has(k.col) || (k.party && !on(GroupTraders)) {
				continue
			}
			k.a, k.b, k.parent = -1, -1, -1
			switch k.digits {
			case 4:
				k.parent = keyIndex["hs2"]
			case 6:
				k.parent = keyIndex["hs4"]
			}
			keyIndex[k.name] = len(p.keys)
			p.keys = append(p.keys, k)
			use(k.col)
		}
		for _, pr := range standardPairs {
			a, okA := keyIndex[pr.a]
			b, okB := keyIndex[pr.b]
			if !okA || !okB {
				continue
			}
			keyIndex[pr.name] = len(p.keys)
			p.keys = append(p.keys, keyDef{name: pr.name, a: a, b: b, parent: -1, party: pr.party})
		}
	}
	if on(GroupExtras) {
		p.extras = slices.Clone(extras)
		for _, e := range extras {
			keyIndex["extra_"+e] = len(p.keys)
			p.keys = append(p.keys, keyDef{name: "extra_" + e, col: e, a: -1, b: -1, parent: -1, extra: true})
		}
	}

	if on(GroupHS) {
		if has(decl.HSCode) {
			use(decl.HSCode)
			for _, d := range []int{2, 4, 6} {
				add(featDef{name: "hs" + strconv.Itoa(d), group: GroupHS, kind: fHS, arg: d})
			}
		}
		for _, x := range []struct {
			n    int
			name string
		}{{numValue, "log_value"}, {numNet, "log_net_mass"}, {numGross, "log_gross_weight"}, {numQty, "log_quantity"}} {
			if numHas(x.n) {
				useNum(x.n)
				add(featDef{name: x.name, group: GroupHS, kind: fLog, arg: x.n})
			}
		}
		if has(decl.CIFValue) && has(decl.FOBValue) {
			use(decl.CIFValue, decl.FOBValue)
			add(featDef{name: "cif_fob_ratio", group: GroupHS, kind: fCIFFOB})
		}
	}
	if on(GroupUnitValue) && has(decl.HSCode) && numHas(numValue) {
		for _, b := range []basis{perKg, perUnit} {
			if !numHas(b.input()) {
				continue
			}
			useNum(numValue)
			useNum(b.input())
			p.bases = append(p.bases, b)
			s := "uv_" + b.String()
			add(featDef{name: "log_" + s, group: GroupUnitValue, kind: fLogUV, arg: int(b)})
			add(featDef{name: s + "_z_hs6", group: GroupUnitValue, kind: fUVZ, arg: int(b)})
			add(featDef{name: s + "_pct_hs6", group: GroupUnitValue, kind: fUVPct, arg: int(b)})
			add(featDef{name: s + "_ratio_hs6", group: GroupUnitValue, kind: fUVRatio, arg: int(b)})
			if k, ok := keyIndex["hs6_origin"]; ok {
				add(featDef{name: s + "_z_hs6_origin", group: GroupUnitValue, kind: fUVZOrigin, key: k, arg: int(b)})
			}
		}
	}
	if on(GroupTax) {
		if has(decl.TaxRate) {
			use(decl.TaxRate)
			add(featDef{name: "tax_rate", group: GroupTax, kind: fTaxRate})
			if numHas(numValue) {
				useNum(numValue)
				add(featDef{name: "log_duty", group: GroupTax, kind: fLogDuty})
			}
		}
		if has(decl.TotalTaxes) {
			use(decl.TotalTaxes)
			add(featDef{name: "log_total_taxes", group: GroupTax, kind: fLog, arg: numTaxes})
			if numHas(numValue) {
				useNum(numValue)
				add(featDef{name: "tax_to_value", group: GroupTax, kind: fTaxToValue})
			}
		}
	}
	for _, g := range []struct {
		group  string
		kind   fkind
		prefix string
		party  bool
	}{
		{GroupRisk, fRisk, "risk_", false},
		{GroupFreq, fFreq, "freq_", false},
		{GroupTraders, fRisk, "risk_", true},
		{GroupTraders, fFreq, "freq_", true},
	} {
		if !on(g.group) {
			continue
		}
		for k, kd := range p.keys {
			if !kd.extra && kd.party == g.party {
				add(featDef{name: g.prefix + kd.name, group: g.group, kind: g.kind, key: k})
			}
		}
	}
	if on(GroupDate) && has(decl.Date) {
		use(decl.Date)
		add(featDef{name: "weekday", group: GroupDate, kind: fWeekday})
		add(featDef{name: "month", group: GroupDate, kind: fMonth})
		add(featDef{name: "day_of_month", group: GroupDate, kind: fDay})
	}
	if on(GroupExtras) {
		for _, e := range p.extras {
			k := keyIndex["extra_"+e]
			add(featDef{name: "code_extra_" + e, group: GroupExtras, kind: fCode, key: k})
			add(featDef{name: "freq_extra_" + e, group: GroupExtras, kind: fFreq, key: k})
			add(featDef{name: "risk_extra_" + e, group: GroupExtras, kind: fRisk, key: k})
		}
	}
	for si, s := range signals {
		for j, n := range s.Features() {
			add(featDef{name: n, group: s.Name(), kind: fSignal, key: si, arg: j})
		}
	}
	p.signals = signals
	for _, c := range decl.Columns {
		if cols[c.Name] {
			p.columns = append(p.columns, c.Name)
		}
	}
	return p
}

func (p *plan) names() []string {
	out := make([]string, len(p.feats))
	for i, f := range p.feats {
		out[i] = f.name
	}
	return out
}

// needsLabels reports whether some feature is a fraud rate.
func (p *plan) needsLabels() bool {
	for _, f := range p.feats {
		if f.kind == fRisk {
			return true
		}
	}
	return false
}

// firstSignal returns the index of the first signal feature: the signals'
// columns follow the built-in features, in plan.signals order.
func (p *plan) firstSignal() int {
	for j, f := range p.feats {
		if f.kind == fSignal {
			return j
		}
	}
	return len(p.feats)
}
