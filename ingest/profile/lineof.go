package profile

import "github.com/goccy/go-yaml/ast"

// LineOf returns the line of the node that DecodePlain's body reaches by
// path (map keys as strings, sequence indices as ints), or of the deepest
// node found on the way, for error messages of other configuration files.
func LineOf(body ast.Node, path []any) int { return lineOf(body, path) }
