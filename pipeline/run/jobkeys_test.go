package run

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// JobKeys and Job's YAML fields name the same keys, so that run --help and
// docs/cli.md list every key the parser reads, and no more.
func TestJobKeysMatchJob(t *testing.T) {
	var fromStruct []string
	var walk func(typ reflect.Type, prefix string)
	walk = func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, prefix+name+".")
				continue
			}
			fromStruct = append(fromStruct, prefix+name)
		}
	}
	walk(reflect.TypeFor[Job](), "")
	var fromTable []string
	for _, k := range JobKeys {
		fromTable = append(fromTable, k.Name)
	}
	slices.Sort(fromStruct)
	slices.Sort(fromTable)
	if !slices.Equal(fromStruct, fromTable) {
		t.Errorf("Job's keys %q\nJobKeys     %q", fromStruct, fromTable)
	}
	if _, ok := (&Job{}).stringKeys()["outputs"]; !ok {
		t.Error("stringKeys lacks a required key")
	}
	for _, k := range JobKeys {
		if _, ok := (&Job{}).stringKeys()[k.Name]; k.Required && !ok {
			t.Errorf("required key %s is not in stringKeys", k.Name)
		}
	}
	help := JobKeysHelp()
	for _, k := range JobKeys {
		if !strings.Contains(help, "  "+k.Name+" ") {
			t.Errorf("run --help does not list %s:\n%s", k.Name, help)
		}
	}
}
