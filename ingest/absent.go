package ingest

import (
	"fmt"

	"risklane/decl"
	"risklane/ingest/profile"
)

// AbsentColumns returns the canonical columns the profile finds in no
// column of the file, which a Reader gives as nulls in every row: a model
// that reads one of them cannot score the file as it was trained to. It
// reads only the header or schema, opened and decoded as Open does (format
// from the first bytes, the profile's delimiter and character set), so the
// two cannot disagree. A file or profile that Open would refuse gives nil
// and no error when the file is readable: Open says what is wrong, in its
// own words.
func AbsentColumns(path string, p *profile.Profile) (_ []string, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s: %w", path, damaged(v))
		}
	}()
	dec, err := p.Decoder()
	if err != nil {
		return nil, nil
	}
	src, _, err := openSource(path, p.Comma(), dec, recordLimit(DefaultMaxFieldBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer src.close()
	b, err := p.Bind(src.names(), src.labels())
	if err != nil {
		return nil, nil
	}
	var absent []string
	for i, s := range b.Source {
		if s < 0 {
			absent = append(absent, decl.Columns[i].Name)
		}
	}
	return absent, nil
}
