package main

// Ollama's template data model and execution rules, rebuilt here from its documented behaviour
// (template/template.go, api/types.go) so the oracle needs no module downloads: the values a
// template sees (.System .Messages .Tools .Think ...), the functions it may call, how messages
// are collated, which variables a template uses, and the legacy .Prompt/.Response path.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
)

var ollamaFuncs = template.FuncMap{
	"json": func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	},
	"currentDate": func(args ...string) string {
		return time.Now().Format("2006-01-02")
	},
	"yesterdayDate": func(args ...string) string {
		return time.Now().AddDate(0, 0, -1).Format("2006-01-02")
	},
	"toTypeScriptType": func(v any) string {
		if p, ok := v.(ToolProperty); ok {
			return p.ToTypeScriptType()
		}
		if p, ok := v.(*ToolProperty); ok && p != nil {
			return p.ToTypeScriptType()
		}
		return "any"
	},
}

// ---- request-side types (the JSON a client sends) ----------------------------------------

type ImageData []byte

type Message struct {
	Role       string      `json:"role"`
	Content    string      `json:"content"`
	Thinking   string      `json:"thinking,omitempty"`
	Images     []ImageData `json:"images,omitempty"`
	ToolCalls  []ToolCall  `json:"tool_calls,omitempty"`
	ToolName   string      `json:"tool_name,omitempty"`
	ToolCallID string      `json:"tool_call_id,omitempty"`
}

type ToolCall struct {
	ID       string           `json:"id,omitempty"`
	Function ToolCallFunction `json:"function"`
}

type ToolCallFunction struct {
	Index     int            `json:"index"`
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments"`
}

type PropertyType []string

func (pt *PropertyType) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*pt = []string{s}
		return nil
	}
	var a []string
	if err := json.Unmarshal(data, &a); err != nil {
		return err
	}
	*pt = a
	return nil
}

func (pt PropertyType) MarshalJSON() ([]byte, error) {
	if len(pt) == 1 {
		return json.Marshal(pt[0])
	}
	return json.Marshal([]string(pt))
}

func (pt PropertyType) String() string {
	switch len(pt) {
	case 0:
		return ""
	case 1:
		return pt[0]
	}
	return fmt.Sprintf("%v", []string(pt))
}

// ToolPropertiesMap keeps the order properties were sent in.
type ToolPropertiesMap struct {
	keys []string
	m    map[string]ToolProperty
}

func (t *ToolPropertiesMap) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("properties: expected an object")
	}
	t.m = map[string]ToolProperty{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key := tok.(string)
		var p ToolProperty
		if err := dec.Decode(&p); err != nil {
			return err
		}
		if _, seen := t.m[key]; !seen {
			t.keys = append(t.keys, key)
		}
		t.m[key] = p
	}
	_, err = dec.Token()
	return err
}

func (t ToolPropertiesMap) MarshalJSON() ([]byte, error) {
	if t.m == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range t.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(t.m[k])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (t *ToolPropertiesMap) ToMap() map[string]ToolProperty {
	if t == nil || t.m == nil {
		return nil
	}
	out := make(map[string]ToolProperty, len(t.m))
	for k, v := range t.m {
		out[k] = v
	}
	return out
}

type ToolProperty struct {
	AnyOf       []ToolProperty     `json:"anyOf,omitempty"`
	Type        PropertyType       `json:"type,omitempty"`
	Items       any                `json:"items,omitempty"`
	Description string             `json:"description,omitempty"`
	Enum        []any              `json:"enum,omitempty"`
	Properties  *ToolPropertiesMap `json:"properties,omitempty"`
	Required    []string           `json:"required,omitempty"`
}

func (tp ToolProperty) ToTypeScriptType() string {
	if len(tp.AnyOf) > 0 {
		var types []string
		for _, a := range tp.AnyOf {
			types = append(types, a.ToTypeScriptType())
		}
		return strings.Join(types, " | ")
	}
	if len(tp.Type) == 0 {
		return "any"
	}
	var types []string
	for _, t := range tp.Type {
		types = append(types, tsType(t))
	}
	return strings.Join(types, " | ")
}

func tsType(t string) string {
	switch t {
	case "string":
		return "string"
	case "number", "integer":
		return "number"
	case "boolean":
		return "boolean"
	case "array":
		return "any[]"
	case "object":
		return "Record<string, any>"
	case "null":
		return "null"
	}
	return "any"
}

type Tool struct {
	Type     string       `json:"type"`
	Items    any          `json:"items,omitempty"`
	Function ToolFunction `json:"function"`
}

type ToolFunction struct {
	Name        string                 `json:"name"`
	Description string                 `json:"description"`
	Parameters  ToolFunctionParameters `json:"parameters"`
}

type ToolFunctionParameters struct {
	Type       string             `json:"type"`
	Defs       any                `json:"$defs,omitempty"`
	Items      any                `json:"items,omitempty"`
	Required   []string           `json:"required,omitempty"`
	Properties *ToolPropertiesMap `json:"properties"`
}

// ---- what templates see -------------------------------------------------------------------

type templateTools []templateTool

func (t templateTools) String() string {
	b, _ := json.Marshal(t)
	return string(b)
}

type templateArgs map[string]any

func (t templateArgs) String() string {
	if t == nil {
		return "{}"
	}
	b, _ := json.Marshal(t)
	return string(b)
}

type templateProperties map[string]ToolProperty

func (t templateProperties) String() string {
	if t == nil {
		return "{}"
	}
	b, _ := json.Marshal(t)
	return string(b)
}

type templateTool struct {
	Type     string               `json:"type"`
	Items    any                  `json:"items,omitempty"`
	Function templateToolFunction `json:"function"`
}

type templateToolFunction struct {
	Name        string                         `json:"name"`
	Description string                         `json:"description"`
	Parameters  templateToolFunctionParameters `json:"parameters"`
}

type templateToolFunctionParameters struct {
	Type       string             `json:"type"`
	Defs       any                `json:"$defs,omitempty"`
	Items      any                `json:"items,omitempty"`
	Required   []string           `json:"required,omitempty"`
	Properties templateProperties `json:"properties"`
}

type templateToolCall struct {
	ID       string
	Function templateToolCallFunction
}

type templateToolCallFunction struct {
	Index     int
	Name      string
	Arguments templateArgs
}

type templateMessage struct {
	Role       string
	Content    string
	Thinking   string
	Images     []ImageData
	ToolCalls  []templateToolCall
	ToolName   string
	ToolCallID string
}

func forTemplateTools(tools []Tool) templateTools {
	if tools == nil {
		return nil
	}
	out := make(templateTools, len(tools))
	for i, t := range tools {
		p := t.Function.Parameters
		out[i] = templateTool{Type: t.Type, Items: t.Items, Function: templateToolFunction{
			Name: t.Function.Name, Description: t.Function.Description,
			Parameters: templateToolFunctionParameters{Type: p.Type, Defs: p.Defs, Items: p.Items,
				Required: p.Required, Properties: templateProperties(p.Properties.ToMap())},
		}}
	}
	return out
}

func forTemplateMessages(msgs []*Message) []*templateMessage {
	if msgs == nil {
		return nil
	}
	out := make([]*templateMessage, len(msgs))
	for i, m := range msgs {
		var calls []templateToolCall
		for _, c := range m.ToolCalls {
			var args templateArgs
			if c.Function.Arguments != nil {
				args = templateArgs(c.Function.Arguments)
			}
			calls = append(calls, templateToolCall{ID: c.ID, Function: templateToolCallFunction{
				Index: c.Function.Index, Name: c.Function.Name, Arguments: args}})
		}
		out[i] = &templateMessage{Role: m.Role, Content: m.Content, Thinking: m.Thinking,
			Images: m.Images, ToolCalls: calls, ToolName: m.ToolName, ToolCallID: m.ToolCallID}
	}
	return out
}

// ---- execution ----------------------------------------------------------------------------

type ollamaCase struct {
	Template string          `json:"template"`
	Messages []Message       `json:"messages"`
	Tools    []Tool          `json:"tools"`
	Think    json.RawMessage `json:"think"`
	Prompt   string          `json:"prompt"`
	Suffix   string          `json:"suffix"`
}

func runOllama(raw json.RawMessage) ([]byte, error) {
	var c ollamaCase
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	think, level, isSet := false, "", false
	if len(c.Think) > 0 && string(c.Think) != "null" {
		isSet = true
		var b bool
		var s string
		if json.Unmarshal(c.Think, &b) == nil {
			think = b
			if b {
				level = "medium"
			}
		} else if json.Unmarshal(c.Think, &s) == nil {
			think = s == "high" || s == "medium" || s == "low"
			level = s
		}
	}
	tmpl := template.New("").Option("missingkey=zero").Funcs(ollamaFuncs)
	tmpl, err := tmpl.Parse(c.Template)
	if err != nil {
		return nil, err
	}
	vars, err := templateVars(tmpl)
	if err != nil {
		return nil, err
	}
	if !contains(vars, "messages") && !contains(vars, "response") {
		tmpl.Tree.Root.Nodes = append(tmpl.Tree.Root.Nodes, responseAction())
	}

	var b bytes.Buffer
	system, msgs := collate(c.Messages)
	if c.Prompt != "" && c.Suffix != "" {
		err := tmpl.Execute(&b, map[string]any{"Prompt": c.Prompt, "Suffix": c.Suffix,
			"Response": "", "Think": think, "ThinkLevel": level, "IsThinkSet": isSet})
		return b.Bytes(), err
	}
	if contains(vars, "messages") {
		err := tmpl.Execute(&b, map[string]any{"System": system,
			"Messages": forTemplateMessages(msgs), "Tools": forTemplateTools(c.Tools),
			"Response": "", "Think": think, "ThinkLevel": level, "IsThinkSet": isSet})
		return b.Bytes(), err
	}

	// The legacy path: one execution per prompt/response pair.
	system = ""
	var prompt, response string
	values := func() map[string]any {
		return map[string]any{"System": system, "Prompt": prompt, "Response": response,
			"Think": think, "ThinkLevel": level, "IsThinkSet": isSet}
	}
	flush := func() error {
		if err := tmpl.Execute(&b, values()); err != nil {
			return err
		}
		system, prompt, response = "", "", ""
		return nil
	}
	for _, m := range msgs {
		switch m.Role {
		case "system":
			if prompt != "" || response != "" {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			system = m.Content
		case "user":
			if response != "" {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			prompt = m.Content
		case "assistant":
			response = m.Content
		}
	}
	cut := false
	root := cutAfterResponse(tmpl.Tree.Root.Copy(), &cut)
	tree := parse.Tree{Root: root.(*parse.ListNode)}
	last := template.Must(template.New("").AddParseTree("", &tree))
	if err := last.Execute(&b, values()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func responseAction() *parse.ActionNode {
	return &parse.ActionNode{NodeType: parse.NodeAction, Pipe: &parse.PipeNode{
		NodeType: parse.NodePipe, Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand,
			Args: []parse.Node{&parse.FieldNode{NodeType: parse.NodeField,
				Ident: []string{"Response"}}}}}}}
}

// collate joins consecutive messages of one role (tool messages stay apart) and gathers the
// system messages' contents.
func collate(msgs []Message) (string, []*Message) {
	var system []string
	var out []*Message
	for i := range msgs {
		if msgs[i].Role == "system" {
			system = append(system, msgs[i].Content)
		}
		if n := len(out); n > 0 && out[n-1].Role == msgs[i].Role && msgs[i].Role != "tool" {
			out[n-1].Content += "\n\n" + msgs[i].Content
		} else {
			out = append(out, &msgs[i])
		}
	}
	return strings.Join(system, "\n\n"), out
}

func templateVars(t *template.Template) ([]string, error) {
	set := map[string]bool{}
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		for _, node := range tt.Root.Nodes {
			ids, err := identifiers(node)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				set[strings.ToLower(id)] = true
			}
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

func identifiers(node parse.Node) ([]string, error) {
	var out []string
	add := func(n parse.Node) error {
		ids, err := identifiers(n)
		out = append(out, ids...)
		return err
	}
	switch x := node.(type) {
	case *parse.ListNode:
		for _, c := range x.Nodes {
			if err := add(c); err != nil {
				return out, err
			}
		}
	case *parse.TemplateNode:
		if x.Pipe == nil {
			return nil, errors.New("undefined template specified")
		}
		return identifiers(x.Pipe)
	case *parse.ActionNode:
		return identifiers(x.Pipe)
	case *parse.IfNode:
		return branchIdentifiers(&x.BranchNode)
	case *parse.RangeNode:
		return branchIdentifiers(&x.BranchNode)
	case *parse.WithNode:
		return branchIdentifiers(&x.BranchNode)
	case *parse.PipeNode:
		for _, c := range x.Cmds {
			for _, a := range c.Args {
				if err := add(a); err != nil {
					return out, err
				}
			}
		}
	case *parse.FieldNode:
		return x.Ident, nil
	case *parse.VariableNode:
		return x.Ident, nil
	}
	return out, nil
}

func branchIdentifiers(b *parse.BranchNode) ([]string, error) {
	out, err := identifiers(b.Pipe)
	if err != nil {
		return out, err
	}
	for _, l := range []*parse.ListNode{b.List, b.ElseList} {
		if l != nil {
			ids, err := identifiers(l)
			out = append(out, ids...)
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// cutAfterResponse drops every node that follows the first .Response field in walk order,
// keeping that field; it walks lists, branch bodies, actions and pipelines (not branch
// conditions), as Ollama's last-turn rendering does; a later .Response field is kept too. An
// else branch met after the cut becomes a nil list, which panics, as it does in Ollama.
func cutAfterResponse(node parse.Node, cut *bool) parse.Node {
	if field, ok := node.(*parse.FieldNode); ok {
		for _, id := range field.Ident {
			if id == "Response" {
				*cut = true
				return node
			}
		}
	}
	if *cut {
		return nil
	}
	switch x := node.(type) {
	case *parse.ListNode:
		var kept []parse.Node
		for _, c := range x.Nodes {
			if n := cutAfterResponse(c, cut); n != nil {
				kept = append(kept, n)
			}
		}
		x.Nodes = kept
	case *parse.IfNode:
		cutBranch(&x.BranchNode, cut)
	case *parse.WithNode:
		cutBranch(&x.BranchNode, cut)
	case *parse.RangeNode:
		cutBranch(&x.BranchNode, cut)
	case *parse.ActionNode:
		p := cutAfterResponse(x.Pipe, cut)
		if p == nil {
			return nil
		}
		x.Pipe = p.(*parse.PipeNode)
	case *parse.PipeNode:
		var cmds []*parse.CommandNode
		for _, c := range x.Cmds {
			var args []parse.Node
			for _, a := range c.Args {
				if n := cutAfterResponse(a, cut); n != nil {
					args = append(args, n)
				}
			}
			if len(args) == 0 {
				return nil
			}
			c.Args = args
			cmds = append(cmds, c)
		}
		if len(cmds) == 0 {
			return nil
		}
		x.Cmds = cmds
	}
	return node
}

func cutBranch(b *parse.BranchNode, cut *bool) {
	b.List = cutAfterResponse(b.List, cut).(*parse.ListNode)
	if b.ElseList != nil {
		b.ElseList = cutAfterResponse(b.ElseList, cut).(*parse.ListNode)
	}
}
