package risklane

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
)

// TestOneBatchRelease: releasing a slice of record batches has one home,
// ingest.Release. A function elsewhere whose body is only a loop releasing
// the elements of a slice it was given is a second copy (simulate and the
// CLI each had one) and fails here.
func TestOneBatchRelease(t *testing.T) {
	fset := token.NewFileSet()
	err := walkSources(func(path, dir string) error {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil || len(fn.Body.List) != 1 || fn.Type.Params.NumFields() != 1 {
				continue
			}
			loop, ok := fn.Body.List[0].(*ast.RangeStmt)
			if !ok || len(loop.Body.List) != 1 {
				continue
			}
			param, ok := loop.X.(*ast.Ident)
			arg := fn.Type.Params.List[0]
			if _, slice := arg.Type.(*ast.ArrayType); !ok || !slice || len(arg.Names) != 1 || param.Name != arg.Names[0].Name {
				continue
			}
			if call := releaseCall(loop.Body.List[0]); call && !(dir == "ingest" && fn.Name.Name == "Release") {
				t.Errorf("%s: %s releases every batch of a slice: call ingest.Release", fset.Position(fn.Pos()), fn.Name.Name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// releaseCall tells whether s is x.Release() with no arguments.
func releaseCall(s ast.Stmt) bool {
	e, ok := s.(*ast.ExprStmt)
	if !ok {
		return false
	}
	c, ok := e.X.(*ast.CallExpr)
	if !ok || len(c.Args) != 0 {
		return false
	}
	sel, ok := c.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Release"
}
