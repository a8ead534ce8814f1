package riskmodel

import "risklane/features/groups"

// Every program that trains or loads a model (train, score, run, report,
// rules, demo) fits and restores feature states that may use the plug-in
// feature groups: register them, in the one place they are listed.
func init() { groups.Register() }
