package packaging

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// argoLua runs health checks, action discovery and resource actions in a Lua
// VM set up as Argo CD sets up its own: only the package, base and table
// libraries, and an os module with nothing but time and date that a script
// reaches through require("os") (there is no global os, string or math). The
// object is the global obj, as Argo CD passes it, and the script's return
// value is read the way Argo CD encodes it.
type argoLua struct {
	// now is the clock that os.time and os.date read.
	now time.Time
}

// argoScriptTimeout bounds a script. Argo CD gives a script one second; the
// tests allow more so that a loaded machine does not fail them, since the
// scripts are a few lines without loops.
const argoScriptTimeout = 10 * time.Second

// run runs script with obj and returns the value it returned.
func (a argoLua) run(t *testing.T, name, script string, obj map[string]interface{}) lua.LValue {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.fn), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			t.Fatal(err)
		}
	}
	L.PreloadModule(lua.OsLibName, a.openOs)
	ctx, cancel := context.WithTimeout(context.Background(), argoScriptTimeout)
	defer cancel()
	L.SetContext(ctx)
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		t.Fatalf("%s failed: %v", name, err)
	}
	return L.Get(-1)
}

// openOs is the os module of Argo CD's Lua runtime: time and date only.
func (a argoLua) openOs(L *lua.LState) int {
	L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{"time": a.osTime, "date": a.osDate}))
	return 1
}

// osTime is os.time() without arguments: the clock in Unix seconds. The
// form with a date table is refused, since no script uses it.
func (a argoLua) osTime(L *lua.LState) int {
	if L.GetTop() > 0 {
		L.RaiseError("the test runtime supports os.time() without arguments only")
		return 0
	}
	L.Push(lua.LNumber(a.now.Unix()))
	return 1
}

// strftimeLayouts are the conversions Argo CD's os.date understands, as Go
// layouts.
var strftimeLayouts = map[byte]string{
	'a': "Mon", 'A': "Monday", 'b': "Jan", 'B': "January", 'd': "02", 'F': "2006-01-02", 'H': "15",
	'I': "03", 'm': "01", 'M': "04", 'p': "PM", 'S': "05", 'X': "15:04:05", 'y': "06", 'Y': "2006",
	'z': "-0700", 'Z': "MST",
}

// osDate is os.date(format): "!" first formats in UTC, the rest is
// strftime with the conversions of strftimeLayouts. An unknown conversion
// is an error, so that a script cannot depend on one Argo CD does not
// translate.
func (a argoLua) osDate(L *lua.LState) int {
	format := L.CheckString(1)
	if L.GetTop() > 1 {
		L.RaiseError("the test runtime supports os.date(format) without a time")
		return 0
	}
	t := a.now.Local()
	if rest, ok := strings.CutPrefix(format, "!"); ok {
		t, format = a.now.UTC(), rest
	}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			b.WriteByte(format[i])
			continue
		}
		i++
		if i == len(format) {
			L.RaiseError("os.date: format ends with %%")
			return 0
		}
		if format[i] == '%' {
			b.WriteByte('%')
			continue
		}
		layout, ok := strftimeLayouts[format[i]]
		if !ok {
			L.RaiseError("os.date: conversion %%%c is not one Argo CD supports", format[i])
			return 0
		}
		b.WriteString(t.Format(layout))
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// fromLua converts a value a script returned as Argo CD does through JSON:
// a table with string keys is an object, one with the keys 1..n a list,
// and an empty table an empty list.
func fromLua(v lua.LValue) (interface{}, error) {
	switch v := v.(type) {
	case lua.LString:
		return string(v), nil
	case lua.LNumber:
		return float64(v), nil
	case lua.LBool:
		return bool(v), nil
	case *lua.LNilType:
		return nil, nil
	case *lua.LTable:
		first, _ := v.Next(lua.LNil)
		if first == lua.LNil {
			return []interface{}{}, nil
		}
		if _, isList := first.(lua.LNumber); isList {
			return listFromLua(v)
		}
		out := map[string]interface{}{}
		var firstErr error
		v.ForEach(func(k, e lua.LValue) {
			ks, ok := k.(lua.LString)
			if !ok {
				firstErr = firstOf(firstErr, fmt.Errorf("a table mixes string keys with %s keys", k.Type()))
				return
			}
			ev, err := fromLua(e)
			firstErr = firstOf(firstErr, err)
			out[string(ks)] = ev
		})
		return out, firstErr
	default:
		return nil, fmt.Errorf("a %s cannot be encoded as JSON", v.Type())
	}
}

// firstOf keeps the first of two errors.
func firstOf(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

// listFromLua converts a table with the keys 1..n.
func listFromLua(t *lua.LTable) (interface{}, error) {
	n := 0
	t.ForEach(func(lua.LValue, lua.LValue) { n++ })
	if n != t.Len() {
		return nil, fmt.Errorf("a table of %d entries is not a list 1..%d", n, t.Len())
	}
	out := make([]interface{}, 0, n)
	for i := 1; i <= n; i++ {
		e, err := fromLua(t.RawGetInt(i))
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// keepLiveMaps undoes, as Argo CD does after an action, what the JSON
// encoding does to an empty table: where the live object has a map and the
// action's output an empty list, the live map is kept. (So an action that
// empties a map does not remove its keys: resume/action.lua drops the table
// instead.)
func keepLiveMaps(out, live map[string]interface{}) {
	for k, lv := range live {
		switch ov := out[k].(type) {
		case map[string]interface{}:
			if lm, ok := lv.(map[string]interface{}); ok {
				keepLiveMaps(ov, lm)
			}
		case []interface{}:
			switch lv := lv.(type) {
			case map[string]interface{}:
				if len(ov) == 0 {
					out[k] = lv
				}
			case []interface{}:
				keepLiveMapsInList(ov, lv)
			}
		}
	}
}

// keepLiveMapsInList applies keepLiveMaps to the items of a list, in
// nested lists too.
func keepLiveMapsInList(out, live []interface{}) {
	for i := 0; i < len(out) && i < len(live); i++ {
		switch ov := out[i].(type) {
		case map[string]interface{}:
			if lm, ok := live[i].(map[string]interface{}); ok {
				keepLiveMaps(ov, lm)
			}
		case []interface{}:
			if ll, ok := live[i].([]interface{}); ok {
				keepLiveMapsInList(ov, ll)
			}
		}
	}
}

// runAction runs an action script on obj and returns the object Argo CD
// would patch the live one to.
func (a argoLua) runAction(t *testing.T, name, script string, obj map[string]interface{}) map[string]interface{} {
	t.Helper()
	live := jsonCopy(t, obj)
	ret, err := fromLua(a.run(t, name, script, jsonCopy(t, obj)))
	if err != nil {
		t.Fatalf("%s returned a value Argo CD cannot encode: %v", name, err)
	}
	out, ok := ret.(map[string]interface{})
	if !ok {
		t.Fatalf("%s returned %T, not an object", name, ret)
	}
	keepLiveMaps(out, live)
	return out
}

// resourceAction is an action as Argo CD's discovery lists it.
type resourceAction struct {
	Name        string `json:"name"`
	Disabled    bool   `json:"disabled,omitempty"`
	IconClass   string `json:"iconClass,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// discover runs a discovery script on obj and returns the actions it
// offers, sorted by name.
func (a argoLua) discover(t *testing.T, script string, obj map[string]interface{}) []resourceAction {
	t.Helper()
	ret, err := fromLua(a.run(t, "discovery.lua", script, jsonCopy(t, obj)))
	if err != nil {
		t.Fatalf("discovery.lua returned a value Argo CD cannot encode: %v", err)
	}
	if l, ok := ret.([]interface{}); ok && len(l) == 0 {
		return nil
	}
	byName, ok := ret.(map[string]interface{})
	if !ok {
		t.Fatalf("discovery.lua returned %T, not a table of actions", ret)
	}
	var out []resourceAction
	for name, v := range byName {
		action := resourceAction{Name: name}
		if _, empty := v.([]interface{}); !empty {
			data, _ := json.Marshal(v)
			if err := json.Unmarshal(data, &action); err != nil {
				t.Fatalf("discovery.lua: action %s: %v", name, err)
			}
			action.Name = name
		}
		out = append(out, action)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// toLua converts a decoded JSON value to a Lua value, as Argo CD passes
// the object: maps and lists become tables, lists 1-based.
func toLua(L *lua.LState, v interface{}) lua.LValue {
	switch v := v.(type) {
	case map[string]interface{}:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []interface{}:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case nil:
		return lua.LNil
	default:
		panic(fmt.Sprintf("unexpected JSON value %T", v))
	}
}

// jsonCopy returns a deep copy of v as decoded from JSON: numbers are
// float64, as Argo CD's round trip through Lua makes them.
func jsonCopy(t *testing.T, v interface{}) map[string]interface{} {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]interface{}{}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// readYAMLObject reads a YAML file of the repository as a JSON object.
func readYAMLObject(t *testing.T, path string) map[string]interface{} {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	obj := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}
