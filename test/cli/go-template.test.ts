import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoTemplate, TemplateError } from '../../src/cli/format/go-template.ts';

const container = {
  ID: 'abc123',
  Names: ['/web', '/alias'],
  State: { Running: true, ExitCode: 0, Status: 'running' },
  Config: { Env: ['A=1', 'B=2'], Labels: { tier: 'front', 'com.example.x': 'y' }, Cmd: null },
  Ports: [],
  Size: 1024,
};

const cases: [string, unknown, string][] = [
  ['{{.ID}}', container, 'abc123'],
  ['{{.State.Running}} {{.State.ExitCode}}', container, 'true 0'],
  ['{{.Config.Env}}', container, '[A=1 B=2]'],
  ['{{.Config.Labels}}', container, 'map[com.example.x:y tier:front]'],
  ['{{.Config.Labels.tier}}', container, 'front'],
  ['{{.Config.Cmd}}', container, '<no value>'],
  ['{{.Missing}}', container, '<no value>'],
  ['{{json .State}}', container, '{"Running":true,"ExitCode":0,"Status":"running"}'],
  ['{{.State | json}}', container, '{"Running":true,"ExitCode":0,"Status":"running"}'],
  ['{{join .Names ","}}', container, '/web,/alias'],
  ['{{index .Config.Labels "com.example.x"}}', container, 'y'],
  ['{{index .Names 1}}', container, '/alias'],
  ['{{range .Config.Env}}[{{.}}]{{end}}', container, '[A=1][B=2]'],
  ['{{range $i, $e := .Names}}{{$i}}={{$e}} {{end}}', container, '0=/web 1=/alias '],
  ['{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}};{{end}}', container, 'com.example.x:y;tier:front;'],
  ['{{range .Ports}}x{{else}}none{{end}}', container, 'none'],
  ['{{if .State.Running}}up{{else}}down{{end}}', container, 'up'],
  ['{{if eq .State.Status "exited"}}E{{else if eq .State.Status "running"}}R{{else}}?{{end}}', container, 'R'],
  ['{{if and .State.Running (eq .Size 1024)}}yes{{end}}', container, 'yes'],
  ['{{if not .Ports}}empty{{end}}', container, 'empty'],
  ['{{with .State}}{{.Status}}{{end}}', container, 'running'],
  ['{{with .Config.Cmd}}x{{else}}no cmd{{end}}', container, 'no cmd'],
  ['{{lower "ABC"}} {{upper .ID}} {{title "hello world"}}', container, 'abc ABC123 Hello World'],
  ['{{split "a:b:c" ":"}}', container, '[a b c]'],
  ['{{len .Names}}', container, '2'],
  ['{{truncate .ID 3}}', container, 'abc'],
  ['{{printf "%-8s|%5d|%q" .ID .Size "x"}}', container, 'abc123  | 1024|"x"'],
  ['{{$n := .ID}}{{$n}}-{{$n}}', container, 'abc123-abc123'],
  ['a  {{- .ID -}}  b', container, 'aabc123b'],
  ['{{/* a comment */}}ok', container, 'ok'],
  ['{{println .ID}}', container, 'abc123\n'],
  ['{{.}}', 'plain', 'plain'],
  ['{{range .}}{{.Name}},{{end}}', [{ Name: 'a' }, { Name: 'b' }], 'a,b,'],
];

for (const [src, data, want] of cases) {
  test(`template ${JSON.stringify(src)}`, () => {
    assert.equal(new GoTemplate(src).execute(data), want);
  });
}

test('template errors are clear TemplateErrors', () => {
  assert.throws(() => new GoTemplate('{{.ID'), TemplateError);
  assert.throws(() => new GoTemplate('{{if .X}}no end'), /missing \{\{end\}\}/);
  assert.throws(() => new GoTemplate('{{nosuchfunc .X}}').execute({}), /function "nosuchfunc" not defined/);
  assert.throws(() => new GoTemplate('{{end}}'), /unexpected \{\{end\}\}/);
  assert.throws(() => new GoTemplate('{{$x}}').execute({}), /undefined variable/);
});

test('fields chained onto a parenthesized pipeline: (index .IPAM.Config 0).Subnet', () => {
  const data = { IPAM: { Config: [{ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1' }] } };
  assert.equal(new GoTemplate('{{(index .IPAM.Config 0).Subnet}} {{ (index .IPAM.Config 0).Gateway }}').execute(data), '10.0.0.0/24 10.0.0.1');
  // With a space it is an argument, as in Go: here to a non-function, an error.
  assert.throws(() => new GoTemplate('{{(index .IPAM.Config 0) .Subnet}}').execute(data), /non-function/);
});
