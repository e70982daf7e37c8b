// dray-shim under faults: its supervisor killed with -9, the shim itself
// killed, slow and vanishing clients; and its log driver (rotation, 16K
// splits, escaping), its memory, and a run under valgrind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { needsRoot } from '../support/root.ts';
import { ShimEnv, alive, readLog, runtimes, until, valgrindReport } from './support.ts';
import { ShimClient, ShimConnectionError } from '../../src/shim/client.ts';
import { encodeFrame, Req, attachPayload } from '../../src/shim/protocol.ts';
import { readExitFile, shimPaths, type ShimLaunched } from '../../src/shim/launch.ts';
import { adoptShim } from '../../src/shim/adopt.ts';

const launchModule = new URL('../../src/shim/launch.ts', import.meta.url).pathname;
const clientModule = new URL('../../src/shim/client.ts', import.meta.url).pathname;

for (const runtime of runtimes()) {
  const rt = runtime.endsWith('crun-v1.sh') ? 'crun' : runtime.split('/').pop();

  test(`${rt}: kill -9 of the supervisor: shim and container survive, the exit is recorded unattended and read later`, needsRoot, async (t) => {
    const env = new ShimEnv(t, runtime);
    const id = env.newId();
    const opts = {
      id, bundle: env.bundle(['sh', '-c', 'trap "exit 42" TERM; echo started; while :; do sleep 0.1; done']),
      runtime, runtimeRoot: env.runtimeRoot, stateDir: env.stateDir(id), start: true,
      log: { path: join(env.stateDir(id), 'container.log') },
    };
    // a stand-in supervisor: launches the shim, stays connected and attached
    const script = `
      const { launchShim } = await import(${JSON.stringify(launchModule)});
      const { ShimClient } = await import(${JSON.stringify(clientModule)});
      const shim = await launchShim(JSON.parse(process.argv[1]));
      const c = await ShimClient.connect(shim.socketPath);
      (await c.attach()).on('stdout', () => {});
      c.wait();
      console.log(JSON.stringify(shim));
      setInterval(() => {}, 1000);`;
    const sup = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => sup.kill('SIGKILL'));
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      sup.stdout.on('data', (b: Buffer) => {
        buf += b.toString();
        if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
      });
      sup.once('exit', () => reject(new Error('the stand-in supervisor died early')));
    });
    const shim = JSON.parse(line) as ShimLaunched;
    env.adopt(shim, id);
    await until(() => readLog(opts.log.path).length > 0);
    sup.kill('SIGKILL');
    await new Promise((r) => sup.once('exit', r));
    assert.ok(alive(shim.shimPid), 'the shim survives its supervisor');
    assert.ok(alive(shim.pid), 'the container survives');
    const adopted = await adoptShim(opts.stateDir);
    assert.ok(adopted.alive);
    assert.equal(adopted.state.status, 'running');
    adopted.client.close();
    // the container exits while nobody is connected
    process.kill(shim.pid, 'SIGTERM');
    const rec = await until(() => readExitFile(opts.stateDir));
    assert.equal(rec.exitStatus, 42);
    const c = await env.connect(shim);
    const st = await c.state();
    assert.equal(st.status, 'stopped');
    assert.equal(st.exitStatus, 42);
    assert.equal((await c.wait()).exitedAt, rec.exitedAt);
    assert.deepEqual(readLog(opts.log.path).map((e) => e.log), ['started\n']);
    await c.delete();
  });
}

test('a dead shim: connect fails clearly, requests in flight fail, exit.json is still readable', needsRoot, async (t) => {
  const env = new ShimEnv(t, 'runc');
  const { client, shim, opts } = await env.launch(['sleep', '1000'], { start: true });
  const pending = client.wait();
  process.kill(shim.shimPid, 'SIGKILL');
  await assert.rejects(pending, ShimConnectionError);
  await assert.rejects(client.state(), ShimConnectionError);
  await assert.rejects(ShimClient.connect(shim.socketPath), ShimConnectionError);
  assert.deepEqual(await adoptShim(opts.stateDir), { alive: false, exit: null }, 'dead, and no exit was recorded');
});

test('two clients at once: both waits answered, both get the exit event', needsRoot, async (t) => {
  const env = new ShimEnv(t, 'runc');
  const { client, shim } = await env.launch(['sh', '-c', 'read x; exit 5'], { stdin: true, start: true });
  const other = await env.connect(shim);
  const events: number[] = [];
  client.on('exit', (e) => events.push(e.exitStatus));
  other.on('exit', (e) => events.push(e.exitStatus));
  const waits = Promise.all([client.wait(), other.wait(), other.wait()]);
  await other.writeStdin('go\n');
  const got = await waits;
  assert.deepEqual(got.map((e) => e.exitStatus), [5, 5, 5]);
  assert.deepEqual(events, [5, 5]);
  await other.delete();
});

test('a client that disconnects mid-stream, and one that never reads, do not disturb the shim', needsRoot, async (t) => {
  const env = new ShimEnv(t, 'runc');
  const line = 'z'.repeat(1000);
  const id = env.newId();
  const { client, shim } = await env.launch(['sh', '-c', `read x; yes ${line} | head -c 30000000; echo done`], {
    id, stdin: true, start: true, log: { path: join(env.stateDir(id), 'c.log'), maxSize: 1 << 20, maxFile: 2 },
  });
  // one attaches and goes away after the first output
  const quitter = await env.connect(shim);
  const qs = await quitter.attach();
  // one attaches and never reads
  const raw = connect(shim.socketPath);
  await new Promise((r) => raw.once('connect', r));
  raw.pause();
  raw.write(encodeFrame(Req.ATTACH, 1, attachPayload(true, true, '')));
  t.after(() => raw.destroy());
  const first = new Promise((r) => qs.once('stdout', r));
  await client.writeStdin('go\n');
  await first;
  quitter.close();
  const exit = await client.wait();
  assert.equal(exit.exitStatus, 0);
  const shimLog = readFileSync(shimPaths(shim.stateDir).shimLog, 'utf8');
  assert.match(shimLog, /dropping a client that does not read/);
  assert.equal((await client.state()).status, 'stopped');
  await client.delete();
});

test('log rotation at a small max-size keeps max-file files, each under the cap, nothing lost in order', needsRoot, async (t) => {
  const env = new ShimEnv(t, 'runc');
  const id = env.newId();
  const logPath = join(env.stateDir(id), 'c.log');
  const { client } = await env.launch(['sh', '-c', 'i=0; while [ $i -lt 400 ]; do echo "line-$i-xxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done'], {
    id, start: true, log: { path: logPath, maxSize: 4000, maxFile: 3 },
  });
  await client.wait();
  const files = readdirSync(env.stateDir(id)).filter((f) => f.startsWith('c.log')).sort();
  assert.deepEqual(files, ['c.log', 'c.log.1', 'c.log.2']);
  for (const f of files) assert.ok(statSync(join(env.stateDir(id), f)).size <= 4000, `${f} is under the cap`);
  const lines = [...readLog(`${logPath}.2`), ...readLog(`${logPath}.1`), ...readLog(logPath)].map((e) => e.log);
  const nums = lines.map((l) => Number(/^line-(\d+)-/.exec(l)![1]));
  assert.equal(nums.at(-1), 399);
  nums.forEach((n, i) => assert.equal(n, nums[0]! + i, 'consecutive'));
  assert.ok(nums[0]! > 0, 'older entries were rotated away');
  await client.delete();
});

test('long lines are split at 16K as Docker does; JSON escaping matches Docker jsonlog', needsRoot, async (t) => {
  const env = new ShimEnv(t, 'runc');
  const { client, opts } = await env.launch(['sh', '-c', "head -c 40000 /dev/zero | tr '\\0' a; echo; printf '<&>\\001\\377\\303\\251\"\\\\\\t\\n'; printf 'no newline'"], { start: true });
  await client.wait();
  const raw = readFileSync(opts.log!.path, 'utf8');
  const log = readLog(opts.log!.path).map((e) => e.log);
  assert.deepEqual(log.slice(0, 3).map((l) => l.length), [16384, 16384, 40000 - 2 * 16384 + 1]);
  assert.ok(log[2]!.endsWith('a\n') && !log[0]!.endsWith('\n'));
  assert.equal(log[3], '<&>\u0001\ufffdé"\\\t\n');
  assert.equal(log[4], 'no newline');
  assert.match(raw, /"log":"\\u003c\\u0026\\u003e\\u0001\\ufffdé\\"\\\\\\t\\n"/);
  await client.delete();
});

test('resident memory of an idle shim with a sleep container is at most 2 MB', needsRoot, async (t) => {
  const env = new ShimEnv(t, 'runc');
  const { client, shim } = await env.launch(['sleep', '1000'], { start: true, stdin: true });
  await client.state();
  const status = readFileSync(`/proc/${shim.shimPid}/status`, 'utf8');
  const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]);
  t.diagnostic(`dray-shim VmRSS ${rss} kB (RssAnon ${/^RssAnon:\s+(\d+)/m.exec(status)?.[1]} kB, RssFile ${/^RssFile:\s+(\d+)/m.exec(status)?.[1]} kB)`);
  assert.ok(rss > 0 && rss <= 2048, `VmRSS ${rss} kB`);
  await client.shutdown();
});

test('the shim under valgrind: no memory errors, no leaks, through create/attach/stdin/exec/delete', needsRoot, async (t) => {
  const env = new ShimEnv(t, 'runc');
  const vg = join(env.dir, 'vg');
  const { client, shim } = await env.launch(['sh', '-c', 'read x; echo got $x; exit 4'], {
    stdin: true,
    shimBinary: new URL('../../native/out/dray-shim-dynamic', import.meta.url).pathname,
    wrapper: ['valgrind', '--leak-check=full', '--show-leak-kinds=definite,indirect,possible', `--log-file=${vg}.%p`],
  });
  const out = await client.attach();
  await client.start();
  const ex = await client.exec('v1', env.processFile(['sh', '-c', 'echo exec-out; exit 2']));
  assert.equal((await ex.output.collect()).stdout.toString(), 'exec-out\n');
  assert.equal((await client.wait('v1')).exitStatus, 2);
  await client.resize(10, 10).catch(() => { /* not a tty: an error reply, exercised on purpose */ });
  await client.writeStdin('hi\n');
  assert.equal((await client.wait()).exitStatus, 4);
  assert.equal((await out.collect()).stdout.toString(), 'got hi\n');
  await client.delete();
  await until(() => !alive(shim.shimPid), 20000);
  const report = await valgrindReport(vg, shim.shimPid);
  t.diagnostic(report.split('\n').filter((l) => /ERROR SUMMARY|in use at exit|definitely lost/.test(l)).join('; '));
  assert.match(report, /ERROR SUMMARY: 0 errors/);
  assert.match(report, /All heap blocks were freed|definitely lost: 0 bytes/);
  assert.doesNotMatch(report, /(definitely|indirectly|possibly) lost: [1-9]/);
});

test('an OOM-killed container is reported as such', needsRoot, async (t) => {
  const env = new ShimEnv(t, 'runc');
  const { client, opts, id } = await env.launch(['sh', '-c', 'x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done'], {
    start: true,
    bundleOpts: { edit: (s) => { (s['linux'] as { resources: Record<string, unknown> }).resources['memory'] = { limit: 16 << 20, swap: 16 << 20 }; } },
  });
  const ooms: string[] = [];
  client.on('oom', (e) => ooms.push(e.id));
  const exit = await client.wait();
  assert.equal(exit.exitStatus, 137);
  assert.equal(exit.oomKilled, true);
  assert.deepEqual(ooms, [id], 'an oom event came before the exit');
  assert.equal(readExitFile(opts.stateDir)?.oomKilled, true);
  await client.delete();
});

test('extra global runtime options reach every runtime call', needsRoot, async (t) => {
  const env = new ShimEnv(t, 'runc');
  const { client, shim } = await env.launch(['true'], { start: true, runtimeArgs: ['--debug'] });
  await client.wait();
  await client.delete();
  const log = readFileSync(shimPaths(shim.stateDir).runtimeLog, 'utf8');
  assert.match(log, /"level":"debug"/);
});

test('a big stdin flows through with back-pressure (8 MB through cat), nothing lost or reordered', needsRoot, async (t) => {
  const env = new ShimEnv(t, 'runc');
  const id = env.newId();
  const { client } = await env.launch(['cat'], {
    id, stdin: true, log: { path: join(env.stateDir(id), 'c.log'), maxSize: 1 << 20, maxFile: 2 },
  });
  const out = await client.attach('', { stdout: true, stderr: false });
  const got = out.collect();
  await client.start();
  const lines: string[] = [];
  for (let i = 0; lines.length * 80 < 8 << 20; i++) lines.push(`${String(i).padStart(10, '0')} ${'q'.repeat(68)}\n`);
  const input = Buffer.from(lines.join(''));
  await client.writeStdin(input);
  await client.closeStdin();
  assert.equal((await client.wait()).exitStatus, 0);
  const { stdout } = await got;
  assert.equal(stdout.length, input.length);
  assert.ok(stdout.equals(input));
  await client.delete();
});

test('a second shim for a live shim state dir is refused and touches nothing; racing clients get one winner', needsRoot, async (t) => {
  const env = new ShimEnv(t, 'runc');
  const { client, shim, opts } = await env.launch(['sleep', '1000']);
  await assert.rejects(env.launch(['true'], { ...opts, id: `${opts.id}-2`, bundle: opts.bundle }), /already serving/);
  const other = await env.connect(shim);
  const starts = await Promise.allSettled([client.start(), other.start(), client.start()]);
  assert.deepEqual(starts.map((s) => s.status).sort(), ['fulfilled', 'rejected', 'rejected']);
  assert.equal((await other.state()).status, 'running');
  const dels = await Promise.allSettled([client.delete(), other.delete({ force: true })]);
  assert.equal(dels.filter((d) => d.status === 'fulfilled').length >= 1, true);
  await until(() => !alive(shim.shimPid));
});

test('hostile frames: errors or a dropped connection, never a crash or a memory error (under valgrind)', needsRoot, async (t) => {
  const env = new ShimEnv(t, 'runc');
  const vg = join(env.dir, 'vg');
  const { client, shim } = await env.launch(['sleep', '1000'], {
    start: true, stdin: true,
    shimBinary: new URL('../../native/out/dray-shim-dynamic', import.meta.url).pathname,
    wrapper: ['valgrind', '--leak-check=full', `--log-file=${vg}.%p`],
  });
  const rawExchange = async (bytes: Buffer): Promise<Buffer> => {
    const s = connect(shim.socketPath);
    await new Promise((r) => s.once('connect', r));
    const got: Buffer[] = [];
    s.on('data', (b: Buffer) => got.push(b));
    s.write(bytes);
    await new Promise((r) => { s.once('close', r); setTimeout(() => s.end(), 300); });
    return Buffer.concat(got);
  };
  const errorOf = (reply: Buffer): string => (reply.length > 9 && reply[4] === 0x81 ? String((JSON.parse(reply.subarray(9).toString()) as { error: string }).error) : '');
  const frame = (type: number, payload: number[]): Buffer => encodeFrame(type, 1, Buffer.from(payload));
  assert.match(errorOf(await rawExchange(frame(99, []))), /unknown request/);
  assert.match(errorOf(await rawExchange(frame(Req.KILL, [0, 0]))), /bad kill request/);
  assert.match(errorOf(await rawExchange(frame(Req.KILL, [0, 0, 0, 200, 0]))), /bad signal/);
  assert.match(errorOf(await rawExchange(frame(Req.EXEC, [0, 50, 0x61]))), /bad exec request/);
  assert.match(errorOf(await rawExchange(frame(Req.EXEC, [0, 1, 0x61, 0x2f, 0, 0x78]))), /bad exec request/);
  assert.match(errorOf(await rawExchange(frame(Req.STDIN, [200, 1, 2]))), /no such process/);
  assert.match(errorOf(await rawExchange(frame(Req.RESIZE, [0, 1]))), /no such process/);
  assert.match(errorOf(await rawExchange(frame(Req.STATE, [...Buffer.from('../etc')]))), /no such process/);
  assert.match(errorOf(await rawExchange(frame(Req.RESIZE, [0, 1, 0, 1]))), /no terminal/);
  // a length beyond the limit, a length below the header, and a torn frame: dropped, no reply
  assert.equal((await rawExchange(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1]))).length, 0);
  assert.equal((await rawExchange(Buffer.from([0, 0, 0, 2, 1, 1]))).length, 0);
  assert.equal((await rawExchange(Buffer.from([0, 0, 1, 0, 1, 0, 0]))).length, 0);
  // random frames of the harmless request types
  const harmless = [Req.STATE, Req.RESIZE, Req.STDIN, Req.CLOSE_STDIN, Req.ATTACH, Req.WAIT, 0, 12, 200];
  let seed = 12345;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const junk: Buffer[] = [];
  for (let i = 0; i < 300; i++) {
    const payload = Buffer.alloc(rnd(40));
    for (let k = 0; k < payload.length; k++) payload[k] = rnd(256);
    const type = harmless[rnd(harmless.length)]!;
    // keep writes to the container's stdin away: an id byte of 0 would name init
    if (type === Req.STDIN && payload.length && payload[0] === 0) payload[0] = 1;
    if ((type === Req.CLOSE_STDIN || type === Req.ATTACH || type === Req.STATE || type === Req.WAIT) && payload.length < 2) continue;
    junk.push(encodeFrame(type, i, payload));
  }
  await rawExchange(Buffer.concat(junk));
  const st = await client.state();
  assert.equal(st.status, 'running', 'the shim still serves, the container still runs');
  await client.shutdown();
  await until(() => !alive(shim.shimPid), 20000);
  const report = await valgrindReport(vg, shim.shimPid);
  assert.match(report, /ERROR SUMMARY: 0 errors/);
  assert.doesNotMatch(report, /(definitely|indirectly|possibly) lost: [1-9]/);
});

test('a runtime call that hangs is killed after --runtime-timeout; the shim goes on serving', needsRoot, async (t) => {
  const env = new ShimEnv(t, 'runc');
  // runc, except that `start` hangs (fault injection around the real runtime)
  const hang = join(env.dir, 'runc-hangs-on-start');
  writeFileSync(hang, '#!/bin/sh\nfor a; do [ "$a" = start ] && exec sleep 1000; done\nexec runc "$@"\n', { mode: 0o755 });
  const { client } = await env.launch(['true'], { runtime: hang, runtimeTimeoutSeconds: 1 });
  await assert.rejects(client.start(), /did not finish in time/);
  assert.equal((await client.state()).status, 'created');
  await client.shutdown();
});
