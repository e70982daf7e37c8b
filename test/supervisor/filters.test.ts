import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchAny, parseFilter, parseFilters, objectField } from '../../src/supervisor/filters.ts';
import { ApiError } from '../../src/supervisor/errors.ts';
import { status } from '@grpc/grpc-js';

const obj = { topic: '/tasks/exit', namespace: 'k8s', labels: { 'com.example/app': 'web' }, containerId: 'c1' };
const adapt = (p: string[]) => objectField(obj, p);

test('filters: ==, !=, ~=, presence, AND within a filter, OR across filters', () => {
  assert.equal(matchAny(parseFilters(['topic==/tasks/exit']), adapt), true);
  assert.equal(matchAny(parseFilters(['topic!=/tasks/exit']), adapt), false);
  assert.equal(matchAny(parseFilters(['topic~=^/tasks/']), adapt), true);
  assert.equal(matchAny(parseFilters(['topic~=^/containers/']), adapt), false);
  assert.equal(matchAny(parseFilters(['namespace']), adapt), true);
  assert.equal(matchAny(parseFilters(['nothere']), adapt), false);
  assert.equal(matchAny(parseFilters(['topic==/tasks/exit,namespace==default']), adapt), false);
  assert.equal(matchAny(parseFilters(['topic==/tasks/exit,namespace==k8s']), adapt), true);
  assert.equal(matchAny(parseFilters(['namespace==default', 'namespace==k8s']), adapt), true);
  assert.equal(matchAny([], adapt), true, 'no filter matches everything');
});

test('filters: quoted field names and values, snake_case fields', () => {
  assert.equal(matchAny(parseFilters(['labels."com.example/app"==web']), adapt), true);
  assert.equal(matchAny(parseFilters(['labels."com.example/app"=="we b"']), adapt), false);
  assert.equal(matchAny(parseFilters(['container_id==c1']), adapt), true);
  assert.deepEqual(parseFilter(' topic == "/a,b" ').map((s) => [s.path, s.op, s.value]), [[['topic'], '==', '/a,b']]);
});

test('filters: syntax errors are INVALID_ARGUMENT with the position', () => {
  for (const bad of ['', '==x', 'topic==', 'topic=x', 'a,,b', 'topic~=(', 'labels."x==1', '9abc==1']) {
    assert.throws(() => parseFilter(bad), (err: unknown) => err instanceof ApiError && err.code === status.INVALID_ARGUMENT, bad);
  }
});
