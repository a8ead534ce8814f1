package score

import "risklane/features/groups"

// The sentences of the plug-in groups' features come from their phrases.
func init() { groups.Register() }
