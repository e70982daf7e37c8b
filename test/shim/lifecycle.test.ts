// dray-shim driving real runtimes (runc, crun): create/start, logs, exit
// recording, stdin, kill, exec, TTY and resize, and the error paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from '../support/root.ts';
import { ShimEnv, readLog, runtimes, alive, until } from './support.ts';
import { ShimError } from '../../src/shim/client.ts';
import { ShimLaunchError, readExitFile, shimPaths } from '../../src/shim/launch.ts';

for (const runtime of runtimes()) {
  const rt = runtime.endsWith('crun-v1.sh') ? 'crun' : runtime.split('/').pop();

  test(`${rt}: echo hello is logged in json-file format and exit 0 is recorded`, needsRoot, async (t) => {
    const env = new ShimEnv(t, runtime);
    const { client, opts, shim } = await env.launch(['sh', '-c', 'echo hello; echo oops >&2'], { start: true });
    const exit = await client.wait();
    assert.equal(exit.exitStatus, 0);
    assert.equal(exit.pid, shim.pid);
    const log = readLog(opts.log!.path);
    assert.deepEqual(log.map((e) => [e.stream, e.log]).sort(), [['stderr', 'oops\n'], ['stdout', 'hello\n']]);
    for (const e of log) assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    const rec = readExitFile(opts.stateDir);
    assert.equal(rec?.exitStatus, 0);
    assert.equal(rec?.oomKilled, false);
    const st = await client.state();
    assert.equal(st.status, 'stopped');
    assert.equal(st.shimPid, shim.shimPid);
    assert.equal(st.protocol, 1);
    assert.equal(st.logPath, opts.log!.path);
    assert.equal(st.bundle, opts.bundle);
    await client.delete();
    await until(() => !alive(shim.shimPid));
    assert.equal(existsSync(shim.socketPath), false, 'the shim removes its socket');
    const list = spawnSync(runtime, ['--root', env.runtimeRoot, 'list', '-q'], { encoding: 'utf8' });
    assert.equal(list.stdout.trim(), '', 'the runtime deleted the container');
  });

  test(`${rt}: exit code 3 is recorded; created, then started on request`, needsRoot, async (t) => {
    const env = new ShimEnv(t, runtime);
    const { client, opts } = await env.launch(['sh', '-c', 'exit 3']);
    assert.equal((await client.state()).status, 'created');
    await client.start();
    const exit = await client.wait();
    assert.equal(exit.exitStatus, 3);
    assert.equal(readExitFile(opts.stateDir)?.exitStatus, 3);
    await assert.rejects(client.start(), ShimError);
    await client.delete();
  });

  test(`${rt}: stdin is piped through (cat)`, needsRoot, async (t) => {
    const env = new ShimEnv(t, runtime);
    const { client, opts } = await env.launch(['cat'], { stdin: true, start: true });
    const out = await client.attach();
    const got = out.collect();
    await client.writeStdin('one\ntwo\n');
    await client.closeStdin();
    const exit = await client.wait();
    assert.equal(exit.exitStatus, 0);
    assert.equal((await got).stdout.toString(), 'one\ntwo\n');
    assert.deepEqual(readLog(opts.log!.path).map((e) => e.log), ['one\n', 'two\n']);
    await client.delete();
  });

  test(`${rt}: kill with SIGTERM runs the container's handler; SIGKILL gives 137`, needsRoot, async (t) => {
    const env = new ShimEnv(t, runtime);
    const loop = ['sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done'];
    const a = await env.launch(loop);
    const ready = await a.client.attach();
    const said = new Promise((r) => ready.once('stdout', r));
    await a.client.start();
    await said;
    await a.client.kill('SIGTERM');
    assert.equal((await a.client.wait()).exitStatus, 42);
    await assert.rejects(a.client.kill('SIGTERM'), /already finished/);
    await a.client.delete();
    const b = await env.launch(['sleep', '1000'], { start: true });
    await b.client.kill('SIGKILL', { all: true });
    assert.equal((await b.client.wait()).exitStatus, 137);
    await b.client.delete();
  });

  test(`${rt}: exec a second process: its output and exit code; exec into a stopped container fails clearly`, needsRoot, async (t) => {
    const env = new ShimEnv(t, runtime);
    const { client, id } = await env.launch(['sleep', '1000'], { start: true });
    const exits: string[] = [];
    client.on('exit', (e) => exits.push(e.id));
    const { pid, output } = await client.exec('e1', env.processFile(['sh', '-c', 'echo out; echo err >&2; exit 7']));
    assert.ok(pid > 0);
    const got = await output.collect();
    assert.equal(got.stdout.toString(), 'out\n');
    assert.equal(got.stderr.toString(), 'err\n');
    const ex = await client.wait('e1');
    assert.equal(ex.exitStatus, 7);
    assert.equal((await client.processState('e1')).exitStatus, 7);
    assert.deepEqual((await client.state()).execs.map((e) => [e.id, e.status]), [['e1', 'stopped']]);
    await assert.rejects(client.exec('e1', env.processFile(['true'])), /exists already/);
    // an exec with stdin
    const cat = await client.exec('e2', env.processFile(['cat']), { stdin: true });
    await client.writeStdin('piped\n', 'e2');
    await client.closeStdin('e2');
    assert.equal((await cat.output.collect()).stdout.toString(), 'piped\n');
    assert.equal((await client.wait('e2')).exitStatus, 0);
    await client.delete({ execId: 'e1' });
    await assert.rejects(client.processState('e1'), /no such process/);
    await client.kill('SIGKILL');
    await client.wait();
    assert.ok(exits.includes('e1') && exits.includes('e2') && exits.includes(id), `exit events: ${exits.join(',')}`);
    await assert.rejects(client.exec('e3', env.processFile(['true'])), /cannot exec in a stopped container/);
    await client.delete();
  });

  test(`${rt}: TTY container gets its pty over the console socket; resize changes stty size`, needsRoot, async (t) => {
    const env = new ShimEnv(t, runtime);
    const { client, opts } = await env.launch(['sh', '-c', 'stty size; read x; stty size'], { terminal: true, stdin: true });
    await client.resize(30, 100);
    const out = await client.attach();
    const text: Buffer[] = [];
    out.on('stdout', (b) => text.push(b));
    await client.start();
    await until(() => Buffer.concat(text).toString().includes('30 100'));
    await client.resize(40, 120);
    await client.writeStdin('\n');
    const exit = await client.wait();
    assert.equal(exit.exitStatus, 0);
    await out.done;
    assert.match(Buffer.concat(text).toString(), /30 100\r\n[\s\S]*40 120\r\n/);
    const logged = readLog(opts.log!.path).map((e) => e.log).join('');
    assert.match(logged, /30 100\r\n/);
    assert.ok(readLog(opts.log!.path).every((e) => e.stream === 'stdout'));
    await assert.rejects(client.resize(1, 1, 'nope'), /no such process/);
    await client.delete();
  });

  test(`${rt}: TTY stdin: typed input is echoed, close-stdin types ^D and cat ends`, needsRoot, async (t) => {
    const env = new ShimEnv(t, runtime);
    const { client } = await env.launch(['cat'], { terminal: true, stdin: true });
    const out = await client.attach();
    const got = out.collect();
    await client.start();
    await client.writeStdin('abc\n');
    await client.closeStdin();
    assert.equal((await client.wait()).exitStatus, 0);
    // the pty echoes the input, then cat writes it back: both with \r\n
    assert.match((await got).stdout.toString(), /^abc\r\n(\^D\x08\x08)?abc\r\n/);
    await client.delete();
  });

  test(`${rt}: exec with a terminal`, needsRoot, async (t) => {
    const env = new ShimEnv(t, runtime);
    const { client } = await env.launch(['sleep', '1000'], { start: true });
    const { output } = await client.exec('tty1', env.processFile(['sh', '-c', 'tty; stty size'], true), { terminal: true });
    await client.resize(12, 34, 'tty1').catch(() => { /* it may have finished already */ });
    const got = (await output.collect()).stdout.toString();
    assert.match(got, /\/dev\/pts\/\d+/);
    assert.equal((await client.wait('tty1')).exitStatus, 0);
    await client.shutdown();
  });

  test(`${rt}: a state dir too long for a socket path: refused, or served with --socket elsewhere (TTY too)`, needsRoot, async (t) => {
    const env = new ShimEnv(t, runtime);
    const id = env.newId();
    const deep = join(env.dir, 'd'.repeat(60), 'e'.repeat(60));
    await assert.rejects(env.launch(['true'], { id, stateDir: deep, log: { path: join(env.dir, 'x.log') } }), /too long for a unix socket path/);
    const sock = join(env.dir, 'k.sock');
    const { client, shim } = await env.launch(['sh', '-c', 'stty size'], { stateDir: deep, socketPath: sock, terminal: true, log: { path: join(env.dir, 'y.log') } });
    assert.equal(shim.socketPath, sock);
    await client.resize(7, 9);
    const out = await client.attach();
    const got = out.collect();
    await client.start();
    assert.equal((await client.wait()).exitStatus, 0);
    assert.match((await got).stdout.toString(), /7 9/);
    assert.ok(existsSync(join(deep, 'exit.json')));
    await client.delete();
  });

  test(`${rt}: a bundle that fails to create: the runtime's message, nothing left`, needsRoot, async (t) => {
    const env = new ShimEnv(t, runtime);
    const bundle = env.bundle(['true'], { edit: (s) => { s.root.path = '/nonexistent-rootfs'; } });
    const id = env.newId();
    const stateDir = env.stateDir(id);
    await assert.rejects(
      env.launch(['true'], { id, bundle, start: true }),
      (err: Error) => err instanceof ShimLaunchError && /nonexistent-rootfs|no such file/i.test(err.message),
    );
    assert.equal(existsSync(shimPaths(stateDir).socket), false);
    const list = spawnSync(runtime, ['--root', env.runtimeRoot, 'list', '-q'], { encoding: 'utf8' });
    assert.equal(list.stdout.trim(), '');
    // the monitor reports, then exits: give it the moment to go
    const shimsOf = (dir: string): string[] => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return readFileSync(join('/proc', p, 'cmdline'), 'utf8').includes(dir);
      } catch {
        return false;
      }
    });
    await until(() => shimsOf(stateDir).length === 0, 5000).catch(() => undefined);
    const shims = shimsOf(stateDir);
    assert.deepEqual(shims, [], 'no shim process left');
  });
}
