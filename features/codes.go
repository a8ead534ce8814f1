package features

import "slices"

// Labels returns what the codes of feature f stand for when f is a
// label-encoded attribute (code_extra_*): the attribute value coded c is
// Labels(f)[c], the empty string being the blank value. It returns nil for
// any other feature. Rule extraction uses it to write "channel in {R, Y}"
// where the trees see codes.
func (s *State) Labels(f int) []string {
	if f < 0 || f >= len(s.plan.feats) || s.plan.feats[f].kind != fCode {
		return nil
	}
	return slices.Clone(s.keys[s.plan.feats[f].key].values)
}
