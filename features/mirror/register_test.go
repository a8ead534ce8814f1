package mirror

import "risklane/features"

// The tests fit feature states with this group, as package groups registers
// it for the programs (this package's tests cannot import that one).
func init() { features.Register(GroupName, NewGroup) }
