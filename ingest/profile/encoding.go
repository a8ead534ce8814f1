package profile

import (
	"fmt"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// Decoder returns the decoder of the profile's Encoding, or nil for UTF-8.
func (p *Profile) Decoder() (*encoding.Decoder, error) {
	switch strings.ToLower(strings.TrimSpace(p.Encoding)) {
	case "", "utf-8", "utf8":
		return nil, nil
	case "latin-1", "latin1", "iso-8859-1":
		return charmap.ISO8859_1.NewDecoder(), nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252.NewDecoder(), nil
	}
	return nil, fmt.Errorf("encoding %q: use utf-8, latin-1 or windows-1252", p.Encoding)
}

// strftime maps C strftime directives to Go layout elements.
var strftime = map[byte]string{
	'Y': "2006", 'y': "06", 'm': "01", 'd': "02", 'e': "_2", 'b': "Jan", 'h': "Jan", 'B': "January",
	'a': "Mon", 'A': "Monday", 'H': "15", 'I': "03", 'M': "04", 'S': "05", 'p': "PM", 'j': "002",
	'z': "-0700", 'Z': "MST", 'F': "2006-01-02", 'T': "15:04:05", '%': "%",
}

// FromStrftime translates a strftime format ("%d.%m.%Y", as Python, R and
// SQL write dates) into the Go layout risklane's date_layouts take
// ("02.01.2006"). ok is false for a directive it does not know.
func FromStrftime(f string) (layout string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		i++
		if i == len(f) {
			return "", false
		}
		g, known := strftime[f[i]]
		if !known {
			return "", false
		}
		b.WriteString(g)
	}
	return b.String(), true
}
