// The real docker CLIs (20.10 and 28) against drayd's HTTP layer serving
// the /volumes routes, next to the same CLIs against the real dockerd:
// the same commands print the same output, errors and exit codes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Router } from '../../src/engine/api/router.ts';
import { createApiHandler, listen, type Listener } from '../../src/engine/api/server.ts';
import { systemRoutes } from '../../src/engine/routes/system.ts';
import { volumeRoutes } from '../../src/volumes/routes.ts';
import { VolumeStore } from '../../src/volumes/store.ts';
import { removeTree } from '../harness/cleanup.ts';
import { DOCKER_CLI, execCommand, startDockerd, type DockerCli, type DockerdPeer, type ExecResult } from '../harness/index.ts';
import { testImage } from '../images/index.ts';
import { needsRoot } from '../support/root.ts';

describe('docker CLI: volume commands against Dray and dockerd', needsRoot, () => {
  let d: DockerdPeer;
  let dir: string;
  let store: VolumeStore;
  let server: Listener;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    d = await startDockerd();
    await d.docker(['load', '-i', (await testImage('busybox')).dockerArchive]);
    dir = mkdtempSync(join(tmpdir(), 'dray-vol-cli-'));
    store = new VolumeStore({ root: join(dir, 'root'), db: join(dir, 'root', 'dray.db') });
    const router = new Router();
    systemRoutes(router);
    volumeRoutes(router, store);
    const quiet = { debug: () => {}, error: (m: string) => process.stderr.write(`${m}\n`) };
    server = await listen(createApiHandler(router, quiet), `unix://${join(dir, 'dray.sock')}`);
    mkdirSync(join(dir, 'cli'));
    writeFileSync(join(dir, 'cli', 'config.json'), '{}\n');
    env = { PATH: d.cliEnv.PATH, HOME: dir, LANG: 'C.UTF-8', DOCKER_HOST: `unix://${join(dir, 'dray.sock')}`, DOCKER_CONFIG: join(dir, 'cli') };
  });
  after(async () => {
    await server?.close();
    store?.close();
    if (dir) removeTree(dir);
    d?.stop();
  });

  const ours = (cli: DockerCli, args: string[], apiVersion?: string): Promise<ExecResult> =>
    execCommand(DOCKER_CLI[cli], args, { env: { ...env, ...(apiVersion ? { DOCKER_API_VERSION: apiVersion } : {}) } });
  const theirs = (cli: DockerCli, args: string[], apiVersion?: string): Promise<ExecResult> =>
    execCommand(DOCKER_CLI[cli], args, { env: { ...d.cliEnv, ...(apiVersion ? { DOCKER_API_VERSION: apiVersion } : {}) } });
  const norm = (r: ExecResult): { code: number | null; out: string; err: string } => {
    const n = (s: string) => s.split(store.volumesDir).join('<volumes>').split(join(d.dataRoot, 'volumes')).join('<volumes>')
      .replace(/"CreatedAt": "[^"]*"/g, '"CreatedAt": "<time>"').replace(/[0-9a-f]{64}/g, '<id>');
    return { code: r.code, out: n(r.stdout), err: n(r.stderr) };
  };

  it('create, inspect, ls (filters, format), rm (in use, force, missing), prune print what dockerd\'s do', async () => {
    for (const cli of ['v20', 'v28'] as const) {
      const prefix = `${cli}-`;
      // The same container holds a volume on both sides: a real container there, a reference here.
      const held = `${prefix}held`;
      const ctr = await theirs('v20', ['create', '-v', `${held}:/d`, 'busybox', 'true']);
      assert.equal(ctr.code, 0, ctr.stderr);
      const id = ctr.stdout.trim();
      const commands: string[][] = [
        ['volume', 'create', `${prefix}foo`],
        ['volume', 'create', '--label', 'a=b', '--label', 'c', `${prefix}bar`],
        ['volume', 'create', `${prefix}foo`],
        ['volume', 'create', '../x'],
        ['volume', 'create', '-o', 'foo=bar', `${prefix}x1`],
        ['volume', 'create', '-o', 'type=tmpfs', `${prefix}x2`],
        ['volume', 'create', '-d', 'nfsplugin', `${prefix}x3`],
        ['volume', 'inspect', `${prefix}foo`, `${prefix}bar`],
        ['volume', 'inspect', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}} {{.Mountpoint}}', `${prefix}bar`],
        ['volume', 'inspect', `${prefix}nope`],
        ['volume', 'ls'],
        ['volume', 'ls', '-q', '--filter', 'label=a=b'],
        ['volume', 'ls', '-q', '--filter', 'label=c'],
        ['volume', 'ls', '-q', '--filter', `name=${prefix}f`],
        ['volume', 'ls', '-q', '--filter', 'dangling=false'],
        ['volume', 'ls', '--filter', 'dangling=maybe'],
        ['volume', 'ls', '--filter', 'bogus=1'],
        ['volume', 'ls', '--format', '{{.Name}}|{{.Driver}}|{{.Label "a"}}|{{.Mountpoint}}'],
        ['volume', 'rm', `${prefix}nope`],
        ['volume', 'rm', '-f', `${prefix}nope`],
        ['volume', 'rm', held],
        ['volume', 'rm', '-f', held],
        ['volume', 'rm', `${prefix}bar`],
        ['volume', 'prune', '-f'],
        ['volume', 'ls', '-q'],
      ];
      store.create({ Name: held }, { reference: id });
      for (const c of commands) {
        // API 1.41 on both sides: dockerd 20.10 speaks no newer.
        const [a, b] = [await theirs(cli, c, '1.41'), await ours(cli, c, '1.41')];
        assert.deepEqual(norm(b), norm(a), `${cli}: docker ${c.join(' ')}`);
      }
      await theirs('v20', ['rm', '-v', id]);
      store.releaseContainer(id);
      await theirs('v20', ['volume', 'prune', '-f']);
      await store.prune({}, '1.41');
    }
  });

  it('bad bodies and filters are 400s with a message', async () => {
    const call = (method: string, path: string, body?: string): Promise<{ status: number; text: string }> => new Promise((resolve, reject) => {
      const req = request({ socketPath: join(dir, 'dray.sock'), path, method, headers: { 'Content-Type': 'application/json' } }, (res) => {
        let t = '';
        res.on('data', (c: Buffer) => { t += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.deepEqual(await call('POST', '/v1.50/volumes/create', '{"Name": 5}'), { status: 400, text: '{"message":"invalid JSON: Name must be a string"}\n' });
    assert.deepEqual(await call('POST', '/v1.50/volumes/create', '{"Labels": {"a": 1}}'), { status: 400, text: '{"message":"invalid JSON: Labels must be an object of strings"}\n' });
    assert.equal((await call('POST', '/v1.50/volumes/create', '{nope')).status, 400);
    assert.equal((await call('GET', `/v1.50/volumes?filters=${encodeURIComponent('{bad')}`)).status, 400);
    // The older filters shape ({"key": {"value": true}}) is accepted too.
    store.create({ Name: 'dangling-one' });
    const old = await call('GET', `/v1.50/volumes?filters=${encodeURIComponent('{"dangling":{"true":true},"name":{"dangling-one":true}}')}`);
    assert.equal(old.status, 200, old.text);
    assert.deepEqual((JSON.parse(old.text) as { Volumes: { Name: string }[] }).Volumes.map((v) => v.Name), ['dangling-one']);
    store.remove('dangling-one');
    const created = await call('POST', '/v1.50/volumes/create', '{"Name": "unknown-fields", "Bogus": 1}');
    assert.equal(created.status, 201, created.text);
    assert.equal((await call('DELETE', '/v1.50/volumes/unknown-fields')).status, 204);
  });

  it('docker CLI 28 at API 1.50: prune takes anonymous volumes only, --all the named ones too', async () => {
    await ours('v28', ['volume', 'prune', '-f', '--all']);
    const anon = (await ours('v28', ['volume', 'create'])).stdout.trim();
    assert.match(anon, /^[0-9a-f]{64}$/);
    assert.equal((await ours('v28', ['volume', 'create', 'named28'])).code, 0);
    const inspect = JSON.parse((await ours('v28', ['volume', 'inspect', anon])).stdout) as { Labels: Record<string, string> }[];
    assert.deepEqual(inspect[0]?.Labels, { 'com.docker.volume.anonymous': '' });
    const p1 = await ours('v28', ['volume', 'prune', '-f']);
    assert.equal(p1.stdout, `Deleted Volumes:\n${anon}\n\nTotal reclaimed space: 0B\n`, p1.stderr);
    const p2 = await ours('v28', ['volume', 'prune', '-f', '--all']);
    assert.equal(p2.stdout, 'Deleted Volumes:\nnamed28\n\nTotal reclaimed space: 0B\n', p2.stderr);
    assert.equal((await ours('v28', ['volume', 'ls', '-q'])).stdout, '');
    // A volume with a random suffix, so nothing depends on what ran before.
    const v = `v28-${randomBytes(4).toString('hex')}`;
    assert.equal((await ours('v28', ['volume', 'create', v])).stdout, `${v}\n`);
    assert.equal((await ours('v28', ['volume', 'rm', v])).stdout, `${v}\n`);
  });
});
