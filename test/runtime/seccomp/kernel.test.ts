// The compiled filters in the real kernel: bin/dray-seccomp-run loads a
// program (with native/executor/seccomp.c, the executor's loader) and execs
// the host's static busybox under it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileSeccomp, dockerDefaultProfile, dockerProfileToOci, DOCKER_DEFAULT_CAPS, nativeArch } from '../../../src/runtime/seccomp/index.ts';
import type { LinuxSeccomp } from '../../../src/runtime/seccomp/validate.ts';
import { needsRoot } from '../../support/root.ts';

const runner = join(import.meta.dirname, '../../../bin/dray-seccomp-run');
const busybox = '/bin/busybox';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'dray-seccomp-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function under(t: { after: (fn: () => void) => void }, spec: LinuxSeccomp, cmd: string[], extra: string[] = []) {
  assert.ok(existsSync(runner), `${runner} is built by native/build.sh`);
  assert.ok(existsSync(busybox), 'busybox-static is installed by scripts/setup.sh');
  const dir = tempDir(t);
  const c = compileSeccomp(spec);
  const prog = join(dir, 'filter.bpf');
  writeFileSync(prog, c.program);
  const r = spawnSync(runner, ['--flags', String(c.flags), ...extra, prog, '--', ...cmd], { encoding: 'utf8', timeout: 20_000, cwd: dir });
  return { ...r, dir };
}

const deny = (names: string[], errnoRet?: number, action = 'SCMP_ACT_ERRNO'): LinuxSeccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names, action, ...(errnoRet === undefined ? {} : { errnoRet }) }],
});

test('an ALLOW default lets a command run', (t) => {
  const r = under(t, { defaultAction: 'SCMP_ACT_ALLOW' }, [busybox, 'sh', '-c', 'echo hello; mkdir d && test -d d && echo made']);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'hello\nmade\n');
});

test('an ERRNO rule makes mkdir fail with EPERM, or with the errno chosen', (t) => {
  const eperm = under(t, deny(['mkdir', 'mkdirat']), [busybox, 'mkdir', 'x']);
  assert.equal(eperm.status, 1);
  assert.match(eperm.stderr, /can't create directory 'x': Operation not permitted/);
  assert.ok(!existsSync(join(eperm.dir, 'x')));
  const erofs = under(t, deny(['mkdir', 'mkdirat'], 30), [busybox, 'mkdir', 'x']);
  assert.match(erofs.stderr, /Read-only file system/);
  const chmod = under(t, deny(['chmod', 'fchmodat', 'fchmodat2'], 13), [busybox, 'sh', '-c', 'touch f && chmod 600 f']);
  assert.equal(chmod.status, 1);
  assert.match(chmod.stderr, /chmod: f: Permission denied/);
});

test('KILL_PROCESS, KILL and TRAP end the process with SIGSYS', (t) => {
  for (const action of ['SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL', 'SCMP_ACT_TRAP']) {
    const r = under(t, deny(['mkdir', 'mkdirat'], undefined, action), [busybox, 'mkdir', 'x']);
    assert.equal(r.signal, 'SIGSYS', action);
    assert.ok(!existsSync(join(r.dir, 'x')));
  }
});

test('an argument condition: personality(PER_LINUX) allowed, personality(PER_LINUX32) refused', (t) => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 0, value: 0, op: 'SCMP_CMP_NE' }] }],
  };
  const ok = under(t, spec, [busybox, 'linux64', busybox, 'echo', 'ran']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, 'ran\n');
  const no = under(t, spec, [busybox, 'linux32', busybox, 'echo', 'ran']);
  assert.notEqual(no.status, 0);
  assert.match(no.stderr, /Invalid argument/);
  assert.equal(no.stdout, '');
});

test("Docker's default profile loads: a shell works, unshare and mount are refused", needsRoot, (t) => {
  // Control: as root, without the profile, both work.
  const free = under(t, { defaultAction: 'SCMP_ACT_ALLOW' }, [busybox, 'unshare', '-n', '-m', 'sh', '-c', 'mount -t tmpfs none . && echo mounted']);
  assert.equal(free.stdout, 'mounted\n', free.stderr);

  const spec = dockerProfileToOci(dockerDefaultProfile(), { arch: nativeArch(), capabilities: DOCKER_DEFAULT_CAPS, kernelRelease: '6.1.0' });
  const sh = under(t, spec, [busybox, 'sh', '-c', 'mkdir d && echo hi > d/f && cat d/f && chmod 600 d/f && ls -l d | wc -l && linux32 true']);
  assert.equal(sh.stderr, '');
  assert.equal(sh.status, 0);
  assert.equal(sh.stdout, 'hi\n2\n');
  const un = under(t, spec, [busybox, 'unshare', '-n', 'true']);
  assert.notEqual(un.status, 0);
  assert.match(un.stderr, /unshare.*Operation not permitted/);
  const mnt = under(t, spec, [busybox, 'mount', '-t', 'tmpfs', 'none', '.']);
  assert.notEqual(mnt.status, 0);
  assert.match(mnt.stderr, /permission denied|not permitted/i);
});

test('NOTIFY: the loader returns a listener fd; with it closed the call gets ENOSYS', (t) => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: '/run/unused.sock',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
  };
  const r = under(t, spec, [busybox, 'mkdir', 'x'], ['--close-listener']);
  assert.match(r.stderr, /listener fd \d+/);
  assert.match(r.stderr, /Function not implemented/);
  assert.equal(r.status, 1);
});

test('flags: SECCOMP_FILTER_FLAG_LOG and SPEC_ALLOW are accepted by the kernel', (t) => {
  const r = under(
    t,
    { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] },
    [busybox, 'true'],
  );
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
});

test('the loader refuses a malformed program before the kernel sees it', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'bad.bpf'), Buffer.alloc(12));
  const r = spawnSync(runner, [join(dir, 'bad.bpf'), '--', busybox, 'true'], { encoding: 'utf8' });
  assert.equal(r.status, 125);
  assert.match(r.stderr, /load filter: Invalid argument/);
});

test('under valgrind (no seccomp(2) there) the loader falls back to prctl, without memory errors', (t) => {
  assert.ok(existsSync('/usr/bin/valgrind'), 'valgrind is installed by scripts/setup.sh');
  const dir = tempDir(t);
  const prog = join(dir, 'filter.bpf');
  writeFileSync(prog, compileSeccomp(deny(['mkdir', 'mkdirat'], 13)).program);
  const r = spawnSync('valgrind', ['-q', '--error-exitcode=99', runner, prog, '--', busybox, 'mkdir', 'x'], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
  assert.match(r.stderr, /unhandled .*syscall/); // valgrind refused seccomp(2)...
  assert.match(r.stderr, /can't create directory 'x': Permission denied/); // ...and prctl loaded the filter
  assert.equal(r.status, 1);
});

// getpid through three ABIs of one x86_64 process: native `syscall`, i386
// `int 0x80` (AUDIT_ARCH_I386, nr 20) and x32 (nr 39 with the x32 bit).
const ABI_PROBE = `#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
  long r;
  errno = 0;
  if (argv[1][0] == 'i') __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory", "cc");
  else if (argv[1][0] == 'x') r = syscall(0x40000000L | 39);
  else r = syscall(39);
  printf("%ld %d\\n", r, errno);
  return 0;
}
`;

test('architectures in the kernel: i386 and x32 syscalls are killed unless listed, and get their own rules', { skip: process.arch !== 'x64' ? 'x86_64 only' : false }, (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'abi.c'), ABI_PROBE);
  const probe = join(dir, 'abi');
  const cc = spawnSync('gcc', ['-O2', '-o', probe, join(dir, 'abi.c')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  const abi = (spec: LinuxSeccomp, which: string) => under(t, spec, [probe, which]);

  const nativeOnly: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
  assert.match(abi(nativeOnly, 'n').stdout, /^[1-9]\d* 0\n$/);
  assert.equal(abi(nativeOnly, 'i').signal, 'SIGSYS');
  assert.equal(abi(nativeOnly, 'x').signal, 'SIGSYS');

  const all: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] };
  assert.match(abi(all, 'i').stdout, /^[1-9]\d* 0\n$/);
  const x = abi(all, 'x'); // passes the filter; this kernel may lack the x32 ABI itself
  assert.equal(x.signal, null);
  assert.equal(x.status, 0);

  // one rule by name, resolved per ABI: i386's getpid (20) gets the errno raw
  const deny: LinuxSeccomp = { ...all, syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] };
  assert.equal(abi(deny, 'i').stdout, '-13 0\n');
  assert.equal(abi(deny, 'n').stdout, '-1 13\n');
  assert.equal(abi(deny, 'x').stdout, '-1 13\n');
});
