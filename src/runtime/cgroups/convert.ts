// The v1 -> v2 value conversions, the same arithmetic runc and crun use, so a
// container gets the same share of the machine under either driver.
import { CgroupError } from './errors.ts';

/** cpu.shares [2, 262144] -> cpu.weight [1, 10000]; 0 (unset) stays 0. */
export function sharesToWeight(shares: bigint): bigint {
  if (shares === 0n) return 0n;
  return 1n + ((shares - 2n) * 9999n) / 262142n;
}

/** blkio.weight [10, 1000] -> io.weight [1, 10000]; 0 (unset) stays 0. */
export function blkioWeightToIoWeight(weight: bigint): bigint {
  if (weight === 0n) return 0n;
  return 1n + ((weight - 10n) * 9999n) / 990n;
}

/**
 * OCI memory.swap is memory+swap (v1 memsw); v2's memory.swap.max is swap
 * alone. Returns -1 for "max", 0 for "leave unset", else the swap-only limit.
 */
export function swapToV2(memswap: bigint, memory: bigint): bigint {
  // v1 compatibility: unlimited memory with swap unset means both unlimited.
  if (memory === -1n && memswap === 0n) return -1n;
  if (memswap === -1n || memswap === 0n) return memswap;
  if (memory === 0n || memory === -1n) throw new CgroupError('memory.swap: cannot set a swap limit without a memory limit');
  if (memswap < memory) throw new CgroupError(`memory.swap: memory+swap (${memswap}) must be >= memory limit (${memory})`);
  return memswap - memory;
}

/** "-1" -> "max" for v2 files; other values as decimal. */
export function v2Limit(v: bigint): string {
  return v < 0n ? 'max' : v.toString();
}
