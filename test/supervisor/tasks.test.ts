// The tasks service: busybox containers run through dray-shim with runc and
// dray-runc (and crun where this host lets it run), driven through the real
// client against a real dray-containerd; then kill -9 of the daemon while
// tasks run, and re-adoption.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { needsRoot } from '../support/root.ts';
import { hasCode, startDrayContainerd, type DrayContainerdProcess } from '../support/dray-containerd.ts';
import { buildBusyboxRootfs } from '../images/busybox-rootfs.ts';
import { runtimes } from '../shim/support.ts';
import { SupervisorError, type Envelope, type SupervisorClient } from '../../src/supervisor/client/index.ts';


let fixture: { dir: string; rootfs: string; spec: Record<string, unknown> & { process: { args: string[]; terminal: boolean } } } | undefined;
function base(): NonNullable<typeof fixture> {
  if (!fixture) {
    const dir = mkdtempSync(join(tmpdir(), 'dray-sup-tasks-'));
    buildBusyboxRootfs(join(dir, 'rootfs'));
    execFileSync('runc', ['spec', '--bundle', dir]);
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as NonNullable<typeof fixture>['spec'];
    fixture = { dir, rootfs: join(dir, 'rootfs'), spec };
  }
  return fixture;
}
after(() => { if (fixture) rmSync(fixture.dir, { recursive: true, force: true }); });

function specFor(args: string[]): object {
  const f = base();
  return { ...f.spec, process: { ...f.spec.process, args, terminal: false }, root: { path: f.rootfs, readonly: true } };
}

async function withDaemon(t: { after(fn: () => Promise<void>): void }): Promise<DrayContainerdProcess> {
  const d = await startDrayContainerd();
  t.after(async () => {
    // Whatever a failed test left: its containers, by the runtime state under exec-root.
    const c = d.client();
    try { for (const task of await c.tasks.list()) { await c.tasks.kill(task.id, 9).catch(() => {}); await c.tasks.wait(task.id).catch(() => {}); await c.tasks.delete(task.id).catch(() => {}); } } catch { /* daemon gone */ }
    await d.cleanup();
  });
  return d;
}

async function collect(c: SupervisorClient, n: number, filter: string): Promise<{ ready: Promise<void>; events: Promise<Envelope[]> }> {
  const sub = c.events.subscribe(filter);
  const events = (async () => {
    const out: Envelope[] = [];
    const timer = setTimeout(() => sub.cancel(), 30_000);
    for await (const e of sub) { out.push(e); if (out.length >= n) break; }
    clearTimeout(timer);
    sub.cancel();
    return out;
  })();
  return { ready: sub.ready, events };
}

/** Every runtime the task scenarios run with: the built-in one ("dray"), then the binaries (runc, crun, dray-runc). */
const RUNTIMES = process.getuid?.() === 0 ? ['dray', ...runtimes()] : ['runc'];
const runtimeName = (runtime: string): string => runtime.startsWith('/') ? runtime : runtime.replace(/^.*\//, '');

for (const runtime of RUNTIMES) {
  const name = runtime.replace(/^.*\//, '');
  test(`task lifecycle with ${name}: create, start, log, wait, events, delete`, needsRoot, async (t) => {
    const d = await withDaemon(t);
    const c = d.client();
    const logDir = mkdtempSync(join(tmpdir(), 'dray-sup-log-'));
    t.after(() => rmSync(logDir, { recursive: true, force: true }));
    await c.containers.create({ id: 'life', runtime: { name: runtime.startsWith('/') ? runtime : name }, spec: specFor(['sh', '-c', 'echo hello from $0; exit 3']) });
    const { ready, events } = await collect(c, 4, 'topic~=^/tasks/');
    await ready;
    const log = join(logDir, 'life.log');
    const { pid } = await c.tasks.create('life', { stdout: `jsonfile://${log}?max-size=1000000&max-file=2` });
    assert.ok(pid > 0);
    assert.equal((await c.tasks.get('life')).status, 'CREATED');
    await assert.rejects(c.tasks.create('life'), hasCode(status.ALREADY_EXISTS));
    await assert.rejects(c.containers.delete('life'), hasCode(status.FAILED_PRECONDITION));
    await c.tasks.start('life');
    const w = await c.tasks.wait('life');
    assert.equal(w.exitStatus, 3);
    assert.equal((await c.tasks.get('life')).status, 'STOPPED');
    const line = JSON.parse(readFileSync(log, 'utf8').trim().split('\n')[0]!) as { log: string; stream: string; time: string };
    assert.equal(line.log, 'hello from sh\n');
    assert.equal(line.stream, 'stdout');
    const del = await c.tasks.delete('life');
    assert.equal(del.exitStatus, 3);
    await assert.rejects(c.tasks.get('life'), hasCode(status.NOT_FOUND));
    assert.deepEqual(readdirSync(join(d.execRoot, 'shims', 'default')), [], 'the shim state is gone');
    assert.deepEqual(readdirSync(join(d.execRoot, 'bundles', 'default')), [], 'the bundle is gone');
    const got = await events;
    assert.deepEqual(got.map((e) => e.topic), ['/tasks/create', '/tasks/start', '/tasks/exit', '/tasks/delete']);
    assert.equal((got[2]!.event as Record<string, unknown>)['exitStatus'], 3);
    await c.containers.delete('life');

    // stdin from a fifo (as containerd's clients pass it): written, then closed (EOF)
    const fifo = join(logDir, 'stdin');
    execFileSync('mkfifo', [fifo]);
    const catLog = join(logDir, 'cat.log');
    await c.containers.create({ id: 'cat', runtime: { name: runtimeName(runtime) }, spec: specFor(['sh', '-c', 'cat; echo done']) });
    await c.tasks.create('cat', { stdin: fifo, stdout: `jsonfile://${catLog}` });
    await c.tasks.start('cat');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(fifo, 'piped in\n'); // opens (a reader is there), writes, closes: EOF
    assert.equal((await c.tasks.wait('cat')).exitStatus, 0);
    let catText = '';
    for (let i = 0; i < 100 && !catText.includes('done'); i++) {
      catText = readFileSync(catLog, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { log: string }).log).join('');
      if (!catText.includes('done')) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(catText, 'piped in\ndone\n');
    await c.tasks.delete('cat');
    await assert.rejects(c.tasks.create('cat', { stdin: catLog }), hasCode(status.INVALID_ARGUMENT), 'stdin must be a fifo');
    await c.containers.delete('cat');

    // a TTY task: the pty master comes over the console socket, its output is logged
    const ttyLog = join(logDir, 'tty.log');
    await c.containers.create({ id: 'tty', runtime: { name: runtimeName(runtime) }, spec: specFor(['sh', '-c', 'tty; exit 2']) });
    await c.tasks.create('tty', { terminal: true, stdout: `jsonfile://${ttyLog}` });
    await c.tasks.start('tty');
    assert.equal((await c.tasks.wait('tty')).exitStatus, 2);
    let text = '';
    for (let i = 0; i < 100 && !text.includes('\n'); i++) {
      text = existsSync(ttyLog) ? readFileSync(ttyLog, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { log: string }).log).join('') : '';
      if (!text.includes('\n')) await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(text, /^\/dev\/pts\/\d+\r?\n/);
    await c.tasks.delete('tty');
    await c.containers.delete('tty');
  });
}

for (const runtime of RUNTIMES) test(`exec into a running task, pause, pids, update, metrics, kill with ${runtime.replace(/^.*\//, '')}; errors with their codes`, needsRoot, async (t) => {
  // one id per runtime: the cgroup (named after it) must not be another runtime's leftover
  const svc = `svc-${runtime.replace(/^.*\//, '').replace(/[^a-z0-9-]/g, '')}`;
  const d = await withDaemon(t);
  const c = d.client();
  const outDir = mkdtempSync(join(tmpdir(), 'dray-sup-exec-'));
  t.after(() => rmSync(outDir, { recursive: true, force: true }));
  await c.containers.create({ id: svc, runtime: { name: runtimeName(runtime) }, spec: specFor(['sleep', '1000']) });
  await c.tasks.create(svc);
  await c.tasks.start(svc);
  assert.equal((await c.tasks.get(svc)).status, 'RUNNING');
  await assert.rejects(c.tasks.delete(svc), hasCode(status.FAILED_PRECONDITION));

  const out = join(outDir, 'out');
  await c.tasks.exec(svc, 'e1', { args: ['sh', '-c', 'echo exec says hi; exit 5'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } }, { stdout: `file://${out}` });
  assert.equal((await c.tasks.get(svc, 'e1')).status, 'CREATED');
  const { pid } = await c.tasks.start(svc, 'e1');
  assert.ok(pid > 0);
  assert.equal((await c.tasks.wait(svc, 'e1')).exitStatus, 5);
  for (let i = 0; i < 100 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 20));
  for (let i = 0; i < 100 && readFileSync(out, 'utf8') === ''; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(readFileSync(out, 'utf8'), 'exec says hi\n');
  assert.equal((await c.tasks.deleteProcess(svc, 'e1')).exitStatus, 5);
  await assert.rejects(c.tasks.exec(svc, 'e2', { args: [] }), hasCode(status.INVALID_ARGUMENT));
  await assert.rejects(c.tasks.exec(svc, 'bad/id', { args: ['true'] }), hasCode(status.INVALID_ARGUMENT));
  await assert.rejects(c.tasks.start(svc, 'nope'), hasCode(status.NOT_FOUND));

  // pause/resume with the runtime's verbs, pids from its ps
  const { ready, events } = await collect(c, 2, 'topic~=^/tasks/(paused|resumed)$');
  await ready;
  const pids = await c.tasks.pids(svc);
  assert.ok(pids.includes((await c.tasks.get(svc)).pid), `${pids}`);
  await c.tasks.pause(svc);
  assert.equal((await c.tasks.get(svc)).status, 'PAUSED');
  await assert.rejects(c.tasks.pause(svc), hasCode(status.FAILED_PRECONDITION));
  await c.tasks.resume(svc);
  assert.equal((await c.tasks.get(svc)).status, 'RUNNING');
  await c.tasks.update(svc, { pids: { limit: 77 } });
  // cgroup v1 (a pids hierarchy) or v2 (the unified one)
  const lines = readFileSync(`/proc/${(await c.tasks.get(svc)).pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => /^\d+:pids:/.test(l));
  const pidsMax = v1 ? `/sys/fs/cgroup/pids${v1.split(':')[2]}/pids.max` : `/sys/fs/cgroup${lines.find((l) => l.startsWith('0::'))!.slice(3)}/pids.max`;
  assert.equal(readFileSync(pidsMax, 'utf8').trim(), '77', 'the runtime applied the new limit');
  await assert.rejects(c.tasks.update(svc, [1] as unknown as object), hasCode(status.INVALID_ARGUMENT));
  assert.deepEqual((await events).map((e) => e.topic), ['/tasks/paused', '/tasks/resumed']);
  const metrics = await c.tasks.metrics([`id==${svc}`]);
  assert.equal(metrics.length, 1);
  assert.equal(metrics[0]!.id, svc);
  assert.equal(metrics[0]!.stats.pids_stats.current, pids.length, 'pids_stats from the task\'s cgroup');
  assert.equal(metrics[0]!.stats.pids_stats.limit, 77);
  assert.ok(metrics[0]!.stats.memory_stats.usage > 0);
  assert.deepEqual(await c.tasks.metrics(['id==nothing']), []);

  await c.tasks.kill(svc, 9);
  assert.equal((await c.tasks.wait(svc)).exitStatus, 137);
  await assert.rejects(c.tasks.pause(svc), hasCode(status.FAILED_PRECONDITION));
  await assert.rejects(c.tasks.exec(svc, 'late', { args: ['true'], cwd: '/' }).then(() => c.tasks.start(svc, 'late')), (e: unknown) => e instanceof SupervisorError && e.code !== status.OK, 'no exec into a stopped task');
  await c.tasks.delete(svc);
  if (runtime !== 'runc') return;

  await assert.rejects(c.tasks.create('ghost'), hasCode(status.NOT_FOUND));
  await c.containers.create({ id: 'badrt', runtime: { name: 'no-such-runtime' }, spec: specFor(['true']) });
  await assert.rejects(c.tasks.create('badrt'), hasCode(status.INVALID_ARGUMENT));
  await c.containers.create({ id: 'nobin', runtime: { name: 'runc' }, spec: specFor(['/no/such/program']) });
  await assert.rejects(c.tasks.create('nobin').then(() => c.tasks.start('nobin')), (e: unknown) => e instanceof SupervisorError && e.code === status.FAILED_PRECONDITION && /no\/such\/program|no such file/i.test(e.message));
  assert.deepEqual(await c.tasks.list().then((l) => l.filter((x) => x.status === 'RUNNING')), []);
  await c.tasks.delete('nobin').catch(() => {});
  await assert.rejects(c.tasks.get('nobin'), hasCode(status.NOT_FOUND));
  assert.deepEqual(readdirSync(join(d.execRoot, 'bundles', 'default')), [], 'a failed create leaves no bundle');
  for (const m of ['checkpoint']) {
    const raw = c.raw('tasks') as unknown as Record<string, (req: object, md: import('@grpc/grpc-js').Metadata, cb: (e: { code: number } | null) => void) => void>;
    const md = new (await import('@grpc/grpc-js')).Metadata();
    md.set('dray-namespace', 'default');
    assert.equal(await new Promise((r) => raw[m]!.call(raw, { containerId: 'x' }, md, (e) => r(e?.code))), status.UNIMPLEMENTED);
  }
});

for (const runtime of RUNTIMES) test(`kill -9 of dray-containerd with ${runtime.replace(/^.*\//, '')}: tasks keep running and logging, exits meanwhile are kept, a restart re-adopts them`, needsRoot, async (t) => {
  const sfx = runtime.replace(/^.*\//, '').replace(/[^a-z0-9-]/g, '');
  const [longId, shortId] = [`long-${sfx}`, `short-${sfx}`];
  let d = await withDaemon(t);
  const c = d.client();
  const logDir = mkdtempSync(join(tmpdir(), 'dray-sup-k9-'));
  t.after(() => rmSync(logDir, { recursive: true, force: true }));
  const log = join(logDir, 'long.log');
  await c.containers.create({ id: longId, runtime: { name: runtimeName(runtime) }, spec: specFor(['sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done']) });
  await c.containers.create({ id: shortId, runtime: { name: runtimeName(runtime) }, spec: specFor(['sh', '-c', 'read x < /dev/null; sleep 1; exit 7']) });
  const long = await c.tasks.create(longId, { stdout: `jsonfile://${log}` });
  await c.tasks.start(longId);
  const short = await c.tasks.create(shortId);
  await c.tasks.start(shortId);
  await d.kill9();
  // The containers outlive the daemon; the short one exits while it is down.
  process.kill(long.pid, 0);
  for (let i = 0; i < 300; i++) {
    try { process.kill(short.pid, 0); } catch { break; }
    await new Promise((r) => setTimeout(r, 20));
  }
  const lines = () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
  const before = lines();
  for (let i = 0; i < 100 && lines() <= before; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(lines() > before, 'the container keeps logging while no daemon runs');
  d = await d.restart();
  t.after(() => d.cleanup());
  const c2 = d.client();
  assert.match(d.stderr(), /msg="re-adopted tasks" count=2/);
  assert.equal((await c2.tasks.get(longId)).status, 'RUNNING');
  assert.equal((await c2.tasks.get(longId)).pid, long.pid);
  const s = await c2.tasks.get(shortId);
  assert.equal(s.status, 'STOPPED');
  assert.equal((await c2.tasks.wait(shortId)).exitStatus, 7, 'the exit recorded while no daemon ran');
  await c2.tasks.delete(shortId);
  await c2.tasks.kill(longId, 9);
  assert.equal((await c2.tasks.wait(longId)).exitStatus, 137);
  await c2.tasks.delete(longId);
  assert.throws(() => process.kill(long.pid, 0));
});

test('dray-ctr tasks: start in the foreground returns the exit status; ls, kill, wait, rm', needsRoot, async (t) => {
  const d = await withDaemon(t);
  const { spawnSync } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const ctr = (...args: string[]) => spawnSync(new URL('../../bin/dray-ctr', import.meta.url).pathname, ['--address', d.address, ...args], { encoding: 'utf8', timeout: 30_000 });
  const dir = mkdtempSync(join(tmpdir(), 'dray-sup-ctr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'exit4.json'), JSON.stringify(specFor(['sh', '-c', 'exit 4'])));
  writeFileSync(join(dir, 'sleep.json'), JSON.stringify(specFor(['sleep', '1000'])));
  assert.equal(ctr('c', 'create', '--runtime', 'runc', '--spec', join(dir, 'exit4.json'), 'four').status, 0);
  assert.equal(ctr('t', 'start', 'four').status, 4);
  assert.equal(ctr('t', 'rm', 'four').stdout, 'four 4\n');
  assert.equal(ctr('c', 'create', '--runtime', 'runc', '--spec', join(dir, 'sleep.json'), 'zz').status, 0);
  assert.equal(ctr('t', 'start', '-d', 'zz').status, 0);
  assert.match(ctr('t', 'ls').stdout, /^TASK\s+PID\s+STATUS\nzz\s+\d+\s+RUNNING\n$/);
  assert.match(ctr('t', 'rm', 'zz').stderr, /FAILED_PRECONDITION/);
  assert.equal(ctr('t', 'kill', '-s', 'KILL', 'zz').status, 0);
  assert.equal(ctr('t', 'wait', 'zz').stdout, '137\n');
  assert.equal(ctr('t', 'rm', 'zz').status, 0);
  assert.match(ctr('t', 'kill', '-s', 'NOPE', 'zz').stderr, /unknown signal/);
});

test('a shim killed under its running container: the task reads UNKNOWN and delete removes the container', needsRoot, async (t) => {
  const d = await withDaemon(t);
  const c = d.client();
  await c.containers.create({ id: 'orphan', runtime: { name: 'runc' }, spec: specFor(['sleep', '1000']) });
  const { pid } = await c.tasks.create('orphan');
  await c.tasks.start('orphan');
  const shims = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((e) => {
    try { return readFileSync(`/proc/${e}/comm`, 'utf8').trim() === 'dray-shim' && readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(d.execRoot); } catch { return false; }
  });
  assert.equal(shims.length, 1);
  process.kill(Number(shims[0]), 'SIGKILL');
  let state = '';
  for (let i = 0; i < 200 && state !== 'UNKNOWN'; i++) { state = (await c.tasks.get('orphan')).status; await new Promise((r) => setTimeout(r, 20)); }
  assert.equal(state, 'UNKNOWN');
  process.kill(pid, 0); // the container outlived its shim
  await assert.rejects(c.tasks.kill('orphan', 9), (e: unknown) => hasCode(status.FAILED_PRECONDITION)(e) || hasCode(status.UNAVAILABLE)(e), 'FAILED_PRECONDITION or UNAVAILABLE: the shim is gone');
  await c.tasks.delete('orphan');
  let gone = false;
  for (let i = 0; i < 200 && !gone; i++) { try { process.kill(pid, 0); await new Promise((r) => setTimeout(r, 20)); } catch { gone = true; } }
  assert.ok(gone, 'delete took the orphaned container down');
  await c.containers.delete('orphan');
});

test('Attach: live output of init and of an exec, stdin through the stream; errors with their codes', needsRoot, async (t) => {
  const d = await withDaemon(t);
  const c = d.client();
  // init: stdin "attach:" is the process's stdin; its output comes back on the stream
  await c.containers.create({ id: 'att', runtime: { name: 'dray' }, spec: specFor(['sh', '-c', 'echo started; while read l; do echo "got $l"; echo "err $l" >&2; done; echo bye']) });
  await c.tasks.create('att', { stdin: 'attach:' });
  const a = await c.tasks.attach('att');
  const out: string[] = [];
  const err: string[] = [];
  a.output.on('stdout', (b) => out.push(b.toString()));
  a.output.on('stderr', (b) => err.push(b.toString()));
  await c.tasks.start('att');
  a.write(Buffer.from('one\ntwo\n'));
  a.closeStdin();
  await a.output.done;
  assert.equal(out.join(''), 'started\ngot one\ngot two\nbye\n');
  assert.equal(err.join(''), 'err one\nerr two\n');
  assert.deepEqual(await c.tasks.wait('att'), { exitStatus: 0, exitedAt: (await c.tasks.wait('att')).exitedAt, oomKilled: false });
  await c.tasks.delete('att');

  // an exec attached before its start gets all of its output, and its stdin
  await c.containers.create({ id: 'att2', runtime: { name: 'dray' }, spec: specFor(['sleep', '1000']) });
  await c.tasks.create('att2');
  await c.tasks.start('att2');
  await c.tasks.exec('att2', 'x1', { args: ['sh', '-c', 'echo early; cat; echo late >&2; exit 3'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } }, { stdin: 'attach:' });
  const e = await c.tasks.attach('att2', 'x1');
  const got = e.output.collect();
  await c.tasks.start('att2', 'x1');
  e.write(Buffer.from('through cat\n'));
  e.closeStdin();
  const r = await got;
  assert.equal(r.stdout.toString(), 'early\nthrough cat\n');
  assert.equal(r.stderr.toString(), 'late\n');
  assert.equal((await c.tasks.wait('att2', 'x1')).exitStatus, 3);
  await assert.rejects(c.tasks.attach('att2', 'nope/x'), hasCode(status.INVALID_ARGUMENT));
  await assert.rejects(c.tasks.attach('ghost'), hasCode(status.NOT_FOUND));
  await c.containers.create({ id: 'att3', runtime: { name: 'dray' }, spec: specFor(['true']) });
  await assert.rejects(c.tasks.create('att3', { stdin: 'attach:x' }), hasCode(status.INVALID_ARGUMENT));
  await c.tasks.kill('att2', 9);
  await c.tasks.wait('att2');
  await c.tasks.delete('att2');
});
