// dray-runc: the OCI runtime (runc's role). Thin main over src/runtime:
// runc's global flags and verbs, each verb's module loaded only when used.
import { writeSync } from 'node:fs';
import { UsageError } from '../common/command-line.ts';
import { DRAY_VERSION, OCI_SPEC_VERSION } from '../common/version.ts';
import { createFlags, createOpts, runFlags, str } from '../runtime/cli/create-flags.ts';
import { execFlags, execOpts } from '../runtime/cli/exec-flags.ts';
import { parseGoFlags, type GoFlag, type GoValues } from '../runtime/cli/go-flags.ts';
import { DEFAULT_ROOT, runtimeContext, type RuntimeContext } from '../runtime/context.ts';
import { RuntimeLog } from '../runtime/log.ts';

const GLOBAL: GoFlag[] = [
  { name: 'root', kind: 'string' }, { name: 'log', kind: 'string' }, { name: 'log-format', kind: 'string' },
  { name: 'debug', kind: 'bool' }, { name: 'systemd-cgroup', kind: 'bool' }, { name: 'criu', kind: 'string' },
  { name: 'rootless', kind: 'string' }, { name: 'help', short: 'h', kind: 'bool' }, { name: 'version', short: 'v', kind: 'bool' },
];

interface Verb {
  usage: string;
  flags: GoFlag[];
  run(ctx: RuntimeContext, v: GoValues, args: string[], log: RuntimeLog): Promise<number>;
}

const out = (s: string): void => { writeSync(1, s); };
const need = (args: string[], n: number, usage: string): void => {
  if (args.length < n) throw new UsageError(`"${usage.split(' ')[0]}" requires ${n === 1 ? 'exactly 1 argument' : `at least ${n} arguments`}`);
};
const VERBS: Record<string, Verb> = {
  create: {
    usage: 'create [command options] <container-id>', flags: createFlags,
    async run(ctx, v, a) { need(a, 1, this.usage); await (await import('../runtime/verbs/create.ts')).create(ctx, createOpts(v, a[0]!)); return 0; },
  },
  run: {
    usage: 'run [command options] <container-id>', flags: runFlags,
    async run(ctx, v, a) { need(a, 1, this.usage); return (await import('../runtime/verbs/run.ts')).run(ctx, { ...createOpts(v, a[0]!), detach: v['detach'] === true }); },
  },
  start: {
    usage: 'start <container-id>', flags: [],
    async run(ctx, _v, a) { need(a, 1, this.usage); await (await import('../runtime/verbs/start.ts')).start(ctx, a[0]!); return 0; },
  },
  state: {
    usage: 'state <container-id>', flags: [],
    async run(ctx, _v, a) { need(a, 1, this.usage); out(JSON.stringify(await (await import('../runtime/verbs/state.ts')).state(ctx, a[0]!), null, '  ') + '\n'); return 0; },
  },
  kill: {
    usage: 'kill [command options] <container-id> [signal]', flags: [{ name: 'all', short: 'a', kind: 'bool' }],
    async run(ctx, v, a) {
      need(a, 1, this.usage);
      const sig = (await import('../runtime/signals.ts')).parseSignal(a[1] ?? 'SIGTERM');
      await (await import('../runtime/verbs/kill.ts')).kill(ctx, a[0]!, sig, v['all'] === true);
      return 0;
    },
  },
  delete: {
    usage: 'delete [command options] <container-id>', flags: [{ name: 'force', short: 'f', kind: 'bool' }],
    async run(ctx, v, a) { need(a, 1, this.usage); await (await import('../runtime/verbs/delete.ts')).del(ctx, a[0]!, v['force'] === true); return 0; },
  },
  list: {
    usage: 'list [command options]', flags: [{ name: 'format', short: 'f', kind: 'string' }, { name: 'quiet', short: 'q', kind: 'bool' }],
    async run(ctx, v) {
      const m = await import('../runtime/verbs/list.ts');
      const all = await m.list(ctx);
      const format = str(v, 'format') ?? 'table';
      if (v['quiet']) { for (const s of all) out(`${s['id']}\n`); return 0; }
      if (format === 'json') { out(all.length ? JSON.stringify(all) + '\n' : 'null\n'); return 0; }
      if (format !== 'table') throw new UsageError(`invalid format option ${JSON.stringify(format)}`);
      out(m.formatTable([['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
        ...all.map((s) => [String(s['id']), String(s['pid']), String(s['status']), String(s['bundle']), String(s['created']), String(s['owner'])])]));
      return 0;
    },
  },
  exec: {
    usage: 'exec [command options] <container-id> <command> [command options]',
    flags: execFlags,
    async run(ctx, v, a) {
      need(a, 1, this.usage);
      return (await import('../runtime/verbs/exec.ts')).exec(ctx, execOpts(v, a));
    },
  },
  pause: {
    usage: 'pause <container-id>', flags: [],
    async run(ctx, _v, a) { need(a, 1, this.usage); await (await import('../runtime/verbs/pause.ts')).pause(ctx, a[0]!); return 0; },
  },
  resume: {
    usage: 'resume <container-id>', flags: [],
    async run(ctx, _v, a) { need(a, 1, this.usage); await (await import('../runtime/verbs/pause.ts')).resume(ctx, a[0]!); return 0; },
  },
  ps: {
    usage: 'ps [command options] <container-id> [ps options]', flags: [{ name: 'format', short: 'f', kind: 'string' }],
    async run(ctx, v, a) {
      need(a, 1, this.usage);
      const m = await import('../runtime/verbs/ps.ts');
      const format = str(v, 'format') ?? 'table';
      if (format === 'json') { out(JSON.stringify(m.pids(ctx, a[0]!)) + '\n'); return 0; }
      if (format !== 'table') throw new UsageError(`invalid format option ${JSON.stringify(format)}`);
      out(m.psTable(ctx, a[0]!, a.slice(1)));
      return 0;
    },
  },
  update: {
    usage: 'update [command options] <container-id>',
    flags: ['resources', 'memory', 'memory-swap', 'memory-reservation', 'kernel-memory', 'kernel-memory-tcp', 'cpu-share', 'cpu-period',
      'cpu-quota', 'cpu-rt-period', 'cpu-rt-runtime', 'cpuset-cpus', 'cpuset-mems', 'pids-limit', 'blkio-weight', 'l3-cache-schema', 'mem-bw-schema']
      .map((name) => ({ name, short: name === 'resources' ? 'r' : undefined, kind: 'string' as const })),
    async run(ctx, v, a, log) {
      need(a, 1, this.usage);
      if (v['kernel-memory'] !== undefined || v['kernel-memory-tcp'] !== undefined) log.warn('kernel memory limits are ignored');
      if (v['l3-cache-schema'] !== undefined || v['mem-bw-schema'] !== undefined) throw new UsageError('Intel RDT is not supported');
      await (await import('../runtime/verbs/update.ts')).update(ctx, a[0]!, {
        resources: str(v, 'resources'), memory: str(v, 'memory'), memorySwap: str(v, 'memory-swap'), memoryReservation: str(v, 'memory-reservation'),
        cpuShares: str(v, 'cpu-share'), cpuPeriod: str(v, 'cpu-period'), cpuQuota: str(v, 'cpu-quota'), cpuRtPeriod: str(v, 'cpu-rt-period'),
        cpuRtRuntime: str(v, 'cpu-rt-runtime'), cpusetCpus: str(v, 'cpuset-cpus'), cpusetMems: str(v, 'cpuset-mems'),
        pidsLimit: str(v, 'pids-limit'), blkioWeight: str(v, 'blkio-weight'),
      });
      return 0;
    },
  },
  events: {
    usage: 'events [command options] <container-id>', flags: [{ name: 'interval', kind: 'string' }, { name: 'stats', kind: 'bool' }],
    async run(ctx, v, a) {
      need(a, 1, this.usage);
      const m = await import('../runtime/verbs/events.ts');
      const intervalMs = m.parseInterval(str(v, 'interval') ?? '5s');
      await m.events(ctx, a[0]!, { stats: v['stats'] === true, intervalMs }, (e) => out(JSON.stringify(e) + '\n'));
      return 0;
    },
  },
  features: {
    usage: 'features', flags: [],
    async run() { out(JSON.stringify((await import('../runtime/verbs/features.ts')).features(), null, '    ') + '\n'); return 0; },
  },
  checkpoint: { usage: 'checkpoint <container-id>', flags: [], async run() { throw new UsageError('checkpoint is not supported (no CRIU)'); } },
  restore: { usage: 'restore <container-id>', flags: [], async run() { throw new UsageError('restore is not supported (no CRIU)'); } },
  spec: {
    usage: 'spec [command options]', flags: [{ name: 'bundle', short: 'b', kind: 'string' }, { name: 'rootless', kind: 'bool' }],
    async run(_ctx, v) { (await import('../runtime/verbs/spec.ts')).spec({ bundle: str(v, 'bundle'), rootless: v['rootless'] === true }); return 0; },
  },
};

const HELP = `NAME:
   dray-runc - Open Container Initiative runtime

USAGE:
   dray-runc [global options] command [command options] [arguments...]

COMMANDS:
${Object.values(VERBS).map((v) => `   ${v.usage}`).join('\n')}

GLOBAL OPTIONS:
   --root value        root directory for storage of container state (default: "${DEFAULT_ROOT}")
   --log value         log file (default: stderr)
   --log-format value  text or json (default: "text")
   --debug             enable debug logging
   --systemd-cgroup    not supported: cgroups are managed through cgroupfs
   --version, -v       print the version
`;

async function main(argv: string[]): Promise<number> {
  const { values: g, rest } = parseGoFlags(argv, GLOBAL);
  const log = new RuntimeLog({ file: str(g, 'log'), format: str(g, 'log-format'), debug: g['debug'] === true });
  try {
    const first = rest[0];
    if (g['version'] || first === 'version' || first === '--version') {
      out(`dray-runc version ${DRAY_VERSION}\nspec: ${OCI_SPEC_VERSION}\n`);
      return 0;
    }
    if (g['help'] || first === undefined || first === 'help') { out(HELP); return 0; }
    const fmt = str(g, 'log-format');
    if (fmt !== undefined && fmt !== 'text' && fmt !== 'json') throw new UsageError(`invalid log-format: ${fmt}`);
    if (g['systemd-cgroup']) throw new UsageError('--systemd-cgroup is not supported: dray-runc manages cgroups through cgroupfs');
    if (g['criu'] !== undefined) log.warn('--criu is ignored: checkpoint/restore is not supported');
    const verb = VERBS[first];
    if (!verb) throw new UsageError(`unknown command ${JSON.stringify(first)}`);
    const { values, rest: args } = parseGoFlags(rest.slice(1), [...verb.flags, { name: 'help', short: 'h', kind: 'bool' }]);
    if (values['help']) { out(`USAGE:\n   dray-runc ${verb.usage}\n`); return 0; }
    const ctx = runtimeContext({ root: str(g, 'root'), warn: (m) => log.warn(m), debug: (m) => log.debug(m) });
    return await verb.run(ctx, values, args, log);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    log.error(msg);
    writeSync(2, `dray-runc: ${msg}\n`);
    if (process.env['DRAY_DEBUG'] && err instanceof Error && err.stack) writeSync(2, err.stack + '\n');
    return err instanceof UsageError ? 1 : 1;
  }
}

// bin/dray-runc starts the warm runtime server this way (src/runtime/warm/).
const started = process.argv[2] === '__warm-server'
  ? import('../runtime/warm/server.ts').then((m) => m.serve(process.argv[3] ?? ''))
  : main(process.argv.slice(2));
started.then((code) => { process.exitCode = code; }, (err: unknown) => {
  writeSync(2, `dray-runc: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
