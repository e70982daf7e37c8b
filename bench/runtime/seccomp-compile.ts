// Compiling Docker's default seccomp profile: Dray's TypeScript compiler
// against libseccomp 2.5 (what runc and crun use), in one run. Prints the
// median time per build and the program length of each.
// Run: node_modules/.bin/node bench/runtime/seccomp-compile.ts [iterations]
import { existsSync } from 'node:fs';
import { AUDIT_ARCH, compileSeccomp, dockerDefaultProfile, dockerProfileToOci, DOCKER_DEFAULT_CAPS, nativeArch, runFilter, SYSCALLS } from '../../src/runtime/seccomp/index.ts';
import { libseccompBuild, libseccompHeader } from '../../test/runtime/seccomp/libseccomp.ts';

const iterations = Number(process.argv[2] ?? 200);
const arch = nativeArch();
const spec = dockerProfileToOci(dockerDefaultProfile(), { arch, capabilities: DOCKER_DEFAULT_CAPS, kernelRelease: '6.1.0' });

/** Mean instructions the kernel runs per syscall, over every native syscall (what each filtered call costs). */
function meanSteps(program: Buffer): number {
  const stats = { steps: 0 };
  const nrs = Object.values(SYSCALLS[arch]);
  for (const nr of nrs) runFilter(program, { nr, arch: AUDIT_ARCH[arch], args: [0n, 0n, 0n] }, stats);
  return stats.steps / nrs.length;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// The first compile in a fresh process (module loading excluded) is what a dray-runc CLI start pays.
let t = performance.now();
const first = compileSeccomp(spec, { arch });
const firstMs = performance.now() - t;
const times: number[] = [];
for (let i = 0; i < iterations; i++) {
  t = performance.now();
  compileSeccomp(spec, { arch });
  times.push(performance.now() - t);
}
const ours = median(times);
console.log(`dray:       ${ours.toFixed(3)} ms median over ${iterations} (first ${firstMs.toFixed(1)} ms), ${first.length} instructions, ${meanSteps(first.program).toFixed(1)} run per syscall on average`);

if (existsSync(libseccompHeader)) {
  // libseccomp times itself in C over the same number of builds, as runc would build it (per-name rules, tree optimisation).
  const runs = [0, 1, 2].map(() => libseccompBuild(spec, arch, iterations));
  const peerMs = median(runs.map((r) => r.nsPerBuild)) / 1e6;
  console.log(`libseccomp: ${peerMs.toFixed(3)} ms mean over ${iterations} (median of 3 runs), ${runs[0]!.program.length / 8} instructions, ${meanSteps(runs[0]!.program).toFixed(1)} run per syscall on average`);
  console.log(`ratio dray/libseccomp: time ${(ours / peerMs).toFixed(2)}, length ${(first.length / (runs[0]!.program.length / 8)).toFixed(2)}`);
} else {
  console.log('libseccomp: not measured (install libseccomp-dev)');
}
