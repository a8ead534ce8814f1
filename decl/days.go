package decl

// Days returns the days since 1970-01-01 of the proleptic Gregorian date
// y-m-d: the value an Arrow Date32 column holds (Howard Hinnant's
// days_from_civil algorithm, exact for every year, before year 1 too). The
// parsers of dates and timestamps use it on their hot paths instead of
// building a time.Time.
func Days(y, m, d int) int32 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400 // floor division: Go's rounds towards zero
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 719468)
}
