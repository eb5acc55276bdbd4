// Command gotemplate_oracle renders Go text/template cases with the real Go implementation, as
// the reference that llmrt's Python renderer (runtime/gotemplate) is compared against.
//
// It reads {"cases": [...]} as JSON on stdin and writes one JSON result per case, in order:
// {"out": base64 of the output bytes} or {"error": "..."}. A case is either
//
//	{"template": "...", "data": <JSON>, "missingkey": "default"|"zero"}     (mode "plain")
//
// rendered with Ollama's function set, or
//
//	{"mode": "ollama", "template": "...", "messages": [...], "tools": [...], "think": ...,
//	 "prompt": "...", "suffix": "..."}
//
// rendered the way Ollama's template package does (see ollama.go). No external modules.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"text/template"
)

type request struct {
	Cases []json.RawMessage `json:"cases"`
}

type plainCase struct {
	Mode       string          `json:"mode"`
	Template   string          `json:"template"`
	Data       json.RawMessage `json:"data"`
	MissingKey string          `json:"missingkey"`
}

type result struct {
	Out   *[]byte `json:"out,omitempty"`
	Error string  `json:"error,omitempty"`
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "bad request:", err)
		os.Exit(2)
	}
	results := make([]result, len(req.Cases))
	for i, raw := range req.Cases {
		out, err := runCase(raw)
		if err != nil {
			results[i] = result{Error: err.Error()}
		} else {
			results[i] = result{Out: &out}
		}
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, "write:", err)
		os.Exit(2)
	}
}

func runCase(raw json.RawMessage) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	var c plainCase
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	if c.Mode == "ollama" {
		return runOllama(raw)
	}
	data, err := decodeData(c.Data)
	if err != nil {
		return nil, err
	}
	mk := c.MissingKey
	if mk == "" {
		mk = "default"
	}
	tmpl, err := template.New("").Option("missingkey=" + mk).Funcs(ollamaFuncs).Parse(c.Template)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// decodeData decodes JSON the way the Python side does: integers as int, other numbers as
// float64, slices with exactly their length as capacity.
func decodeData(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return normalize(v), nil
}

func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil && !bytes.ContainsAny([]byte(x), ".eE") {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalize(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}
