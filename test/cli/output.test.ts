// docker's table/column formatting: ps and images rows, ports, truncation, --format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerRow, displayablePorts, HEADERS } from '../../src/cli/commands/ps.ts';
import { imageRows } from '../../src/cli/commands/images.ts';
import { ellipsis, goJson, goQuote, truncateId, writeFormatted } from '../../src/cli/output.ts';
import type { ContainerSummary } from '../../src/cli/client/types.ts';

function capture(f: (out: NodeJS.WritableStream) => void): string {
  let s = '';
  f({ write: (c: string) => { s += c; return true; } } as unknown as NodeJS.WritableStream);
  return s;
}

const C: ContainerSummary = {
  Id: '7ded14ff9943af74446c21664e5bcfce74edad3e398a07112b1cec96977fe291', Names: ['/web', '/other/alias'], Image: 'busybox',
  ImageID: 'sha256:ffb7d57d08369631268dfc98c85734cf95e959a42aecde85a8e8c131f09e570b', Command: "sh -c 'echo hi; exit 3'",
  Created: Math.floor(Date.now() / 1000) - 7200, Ports: [{ IP: '127.0.0.1', PrivatePort: 80, PublicPort: 8081, Type: 'tcp' }],
  Labels: { b: '2', a: '1' }, State: 'running', Status: 'Up 2 hours', SizeRw: 2, SizeRootFs: 1986000,
  Mounts: [{ Name: 'averyveryverylongvolumename', Destination: '/data' }], NetworkSettings: { Networks: { bridge: {}, a: {} } },
};

test('ps row: truncation, quoting, names, ports, sizes, relative time', () => {
  const r = containerRow(C, true);
  assert.equal(r['ID'], '7ded14ff9943');
  assert.equal(r['Command'], '"sh -c \'echo hi; exi…"');
  assert.equal(r['Names'], 'web');
  assert.equal(r['RunningFor'], '2 hours ago');
  assert.equal(r['Ports'], '127.0.0.1:8081->80/tcp');
  assert.equal(r['Size'], '2B (virtual 1.99MB)');
  assert.equal(r['Mounts'], 'averyveryveryl…');
  assert.equal(r['Networks'], 'a,bridge');
  const full = containerRow(C, false);
  assert.equal(full['ID'], C.Id);
  assert.equal(full['Names'], 'web,other/alias');
  assert.equal(full['Command'], `"${C.Command}"`);
  // An image given by ID shows truncated; a digest reference loses its digest.
  assert.equal(containerRow({ ...C, Image: C.ImageID }, true)['Image'], 'ffb7d57d0836');
  assert.equal(containerRow({ ...C, Image: 'busybox:1@sha256:' + 'a'.repeat(64) }, true)['Image'], 'busybox:1');
});

test('ports: ranges grouped, host mappings after, IPv6 bracketed', () => {
  assert.equal(displayablePorts([
    { PrivatePort: 81, Type: 'tcp' }, { PrivatePort: 80, Type: 'tcp' }, { PrivatePort: 82, Type: 'tcp' }, { PrivatePort: 53, Type: 'udp' },
    { IP: '0.0.0.0', PrivatePort: 443, PublicPort: 443, Type: 'tcp' }, { IP: '::', PrivatePort: 22, PublicPort: 2222, Type: 'tcp' },
  ]), '53/udp, 80-82/tcp, 0.0.0.0:443->443/tcp, [::]:2222->22/tcp');
});

test('table format: header names, alignment, -q, custom and json formats', () => {
  const rows = [containerRow(C, true)];
  const table = capture((out) => writeFormatted(out, { format: '', defaultFormat: 'table {{.ID}}\t{{.Image}}\t{{.Names}}', headers: HEADERS, rows }));
  assert.equal(table, 'CONTAINER ID   IMAGE     NAMES\n7ded14ff9943   busybox   web\n');
  assert.equal(capture((out) => writeFormatted(out, { format: '', defaultFormat: 'table {{.ID}}', headers: HEADERS, quiet: true, rows })), '7ded14ff9943\n');
  assert.equal(capture((out) => writeFormatted(out, { format: '{{.Names}}:{{.State}}', defaultFormat: '', headers: HEADERS, rows })), 'web:running\n');
  assert.equal(capture((out) => writeFormatted(out, { format: 'table {{.Names}}\\t{{.Status}}', defaultFormat: '', headers: HEADERS, rows: [] })), 'NAMES     STATUS\n');
  assert.equal(capture((out) => writeFormatted(out, { format: '{{.Label "a"}}|{{.Label "zz"}}|{{.Names | upper}}', defaultFormat: '', headers: HEADERS, rows })), '1||WEB\n');
  const json = JSON.parse(capture((out) => writeFormatted(out, { format: 'json', defaultFormat: '', headers: HEADERS, rows })));
  assert.equal('Label' in json, false);
  assert.equal(json.Ports, '127.0.0.1:8081->80/tcp');
  assert.equal(json.Labels, 'b=2,a=1');
});

test('images: one row per tag, <none> rows, digests column', () => {
  const img = { Id: 'sha256:' + 'f'.repeat(64), ParentId: '', RepoTags: ['busybox:latest', 'busybox:1', 'localhost:5000/x:y'], RepoDigests: ['busybox@sha256:' + 'a'.repeat(64)],
    Created: 0, Size: 1986000, SharedSize: -1, Labels: null, Containers: -1 };
  const rows = imageRows([img, { ...img, RepoTags: [], RepoDigests: [] }], true, true);
  assert.deepEqual(rows.map((r) => `${r['Repository']} ${r['Tag']} ${r['Digest']} ${r['ID']} ${r['Size']}`), [
    `busybox latest sha256:${'a'.repeat(64)} ffffffffffff 1.99MB`, `busybox 1 sha256:${'a'.repeat(64)} ffffffffffff 1.99MB`,
    'localhost:5000/x y <none> ffffffffffff 1.99MB', '<none> <none> <none> ffffffffffff 1.99MB',
  ]);
  assert.equal(rows[0]!['VirtualSize'], '1.986MB');
  assert.equal(rows[0]!['Containers'], 'N/A');
});

test('helpers: ellipsis by code points, Go JSON escapes, quoting, IDs', () => {
  assert.equal(ellipsis('héllo wörld', 5), 'héll…');
  assert.equal(ellipsis('short', 20), 'short');
  assert.equal(goJson({ a: '<b>&' }), '{"a":"\\u003cb\\u003e\\u0026"}');
  assert.equal(goQuote('a"b>c'), '"a\\"b>c"');
  assert.equal(truncateId('sha256:0123456789abcdef'), '0123456789ab');
});
