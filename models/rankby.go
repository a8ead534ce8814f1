package models

import "fmt"

// RankBy names the score a ranking uses. It is the one home of the
// ranking keys: the score command, the nightly job, evaluate and the
// scoring stage all read it from here.
type RankBy string

// Rankings.
const (
	// ByProbability ranks by the model's score.
	ByProbability RankBy = "probability"
	// ByExpectedRevenue ranks by expected revenue, as DATE's dual task does;
	// only a RevenueModel with a revenue head can.
	ByExpectedRevenue RankBy = "expected-revenue"
)

// ParseRankBy reads a --rank-by value; "" means ByProbability.
func ParseRankBy(s string) (RankBy, error) {
	switch RankBy(s) {
	case "":
		return ByProbability, nil
	case ByProbability, ByExpectedRevenue:
		return RankBy(s), nil
	}
	return "", fmt.Errorf("rank by %q: use %s or %s", s, ByProbability, ByExpectedRevenue)
}

// CheckRankBy refuses a ranking m cannot give: by expected revenue without
// a revenue head. Callers check before any work.
func CheckRankBy(m Model, by RankBy) error {
	if _, err := ParseRankBy(string(by)); err != nil {
		return err
	}
	if by != ByExpectedRevenue {
		return nil
	}
	if r, ok := m.(RevenueModel); ok && r.HasRevenue() {
		return nil
	}
	return fmt.Errorf("model %s has no revenue head, so it cannot rank by %s: rank by %s, or train a model with revenue (a %s model needs illicit training rows with a revenue)",
		m.ID(), ByExpectedRevenue, ByProbability, m.Kind())
}
