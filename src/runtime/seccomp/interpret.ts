// A classic-BPF interpreter for seccomp programs, with the kernel's checks
// (forward jumps only, aligned 32-bit loads inside seccomp_data). Tests run
// compiled programs on synthetic syscalls with it, no kernel needed.
import { DATA, OP, decode, type Insn } from './bpf.ts';
import { RET, RET_ACTION_MASK, RET_DATA_MASK } from './constants.ts';

/** struct seccomp_data. */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  args?: readonly (bigint | number)[];
}

function dataWords(d: SeccompData): Uint32Array {
  const b = Buffer.alloc(DATA.SIZE);
  b.writeUInt32LE(d.nr >>> 0, DATA.NR);
  b.writeUInt32LE(d.arch >>> 0, DATA.ARCH);
  b.writeBigUInt64LE(BigInt.asUintN(64, d.instructionPointer ?? 0n), DATA.IP_LO);
  for (let i = 0; i < 6; i++) b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(d.args?.[i] ?? 0)), DATA.argLo(i));
  const w = new Uint32Array(DATA.SIZE / 4);
  for (let i = 0; i < w.length; i++) w[i] = b.readUInt32LE(i * 4);
  return w;
}

/** Runs the program on one syscall and returns the SECCOMP_RET_* value; `stats.steps` counts the instructions run. */
export function runFilter(program: Buffer | Insn[], data: SeccompData, stats?: { steps: number }): number {
  const insns = Buffer.isBuffer(program) ? decode(program) : program;
  const words = dataWords(data);
  const mem = new Uint32Array(16);
  let a = 0;
  let x = 0;
  const u = (v: number) => v >>> 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const { code, jt, jf, k } = insns[pc]!;
    if (stats) stats.steps++;
    switch (code) {
      case OP.LD_W_ABS:
        if (k % 4 !== 0 || k >= DATA.SIZE) throw new Error(`bpf: load at ${k} outside seccomp_data (pc ${pc})`);
        a = words[k / 4]!;
        continue;
      case OP.LD_IMM:
        a = u(k);
        continue;
      case OP.LDX_IMM:
        x = u(k);
        continue;
      case OP.LD_MEM:
      case OP.LDX_MEM:
      case OP.ST:
      case OP.STX: {
        if (k >= 16) throw new Error(`bpf: scratch slot ${k} (pc ${pc})`);
        if (code === OP.LD_MEM) a = mem[k]!;
        else if (code === OP.LDX_MEM) x = mem[k]!;
        else if (code === OP.ST) mem[k] = a;
        else mem[k] = x;
        continue;
      }
      case OP.TAX:
        x = a;
        continue;
      case OP.TXA:
        a = x;
        continue;
      case OP.RET_K:
        return u(k);
      case OP.RET_A:
        return u(a);
      case OP.JA:
        pc += k;
        if (pc + 1 >= insns.length) throw new Error('bpf: jump past the end');
        continue;
    }
    const cls = code & 0x07;
    if (cls === 0x04) {
      // ALU: op in bits 4-7, source K (0x00) or X (0x08).
      const src = code & 0x08 ? x : u(k);
      switch (code & 0xf0) {
        case 0x00: a = u(a + src); break;
        case 0x10: a = u(a - src); break;
        case 0x20: a = u(Math.imul(a, src)); break;
        case 0x30: if (src === 0) return 0; a = u(Math.floor(a / src)); break;
        case 0x40: a = u(a | src); break;
        case 0x50: a = u(a & src); break;
        case 0x60: a = src >= 32 ? 0 : u(a << src); break;
        case 0x70: a = src >= 32 ? 0 : a >>> src; break;
        case 0x80: a = u(-a); break;
        case 0x90: if (src === 0) return 0; a = u(a % src); break;
        case 0xa0: a = u(a ^ src); break;
        default: throw new Error(`bpf: bad ALU opcode 0x${code.toString(16)} (pc ${pc})`);
      }
      continue;
    }
    if (cls === 0x05) {
      const src = code & 0x08 ? x : u(k);
      let cond: boolean;
      switch (code & 0xf0) {
        case 0x10: cond = a === src; break;
        case 0x20: cond = a > src; break;
        case 0x30: cond = a >= src; break;
        case 0x40: cond = (a & src) !== 0; break;
        default: throw new Error(`bpf: bad jump opcode 0x${code.toString(16)} (pc ${pc})`);
      }
      pc += cond ? jt : jf;
      if (pc + 1 >= insns.length) throw new Error('bpf: jump past the end');
      continue;
    }
    throw new Error(`bpf: opcode 0x${code.toString(16)} not allowed in seccomp (pc ${pc})`);
  }
  throw new Error('bpf: program ran off its end without returning');
}

/** Names a SECCOMP_RET_* value like the OCI actions: "ERRNO(1)", "ALLOW", "TRACE(5)". */
export function describeAction(ret: number): string {
  const act = (ret & RET_ACTION_MASK) >>> 0;
  const data = ret & RET_DATA_MASK;
  switch (act) {
    case RET.KILL_PROCESS: return 'KILL_PROCESS';
    case RET.KILL_THREAD: return 'KILL_THREAD';
    case RET.TRAP: return 'TRAP';
    case RET.ERRNO: return `ERRNO(${data})`;
    case RET.USER_NOTIF: return 'NOTIFY';
    case RET.TRACE: return `TRACE(${data})`;
    case RET.LOG: return 'LOG';
    case RET.ALLOW: return 'ALLOW';
    default: return `UNKNOWN(0x${(ret >>> 0).toString(16)})`;
  }
}
