// cgroup v2 has no devices files: access is decided by an eBPF program of
// type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup (BPF_CGROUP_DEVICE).
// This file assembles that program from a DeviceState; the addon's bpf.c only
// loads and attaches the bytes.
import { ACC_ALL, type DeviceState } from './devices.ts';

// Opcodes (linux/bpf.h, linux/bpf_common.h).
const LDX_MEM_W = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
const ALU32_RSH_K = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const ALU32_MOV_X = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const ALU64_MOV_K = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
const JNE_K = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const EXIT = 0x95; // BPF_JMP | BPF_EXIT

const DEV_TYPE = { b: 1, c: 2 } as const; // BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const ins = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

/**
 * The program, as the kernel's 8-byte instructions. Registers on entry: r1 =
 * struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }, with
 * access_type = (access << 16) | type. Returns 1 to allow, 0 to deny.
 */
export function deviceProgram(st: DeviceState): Buffer {
  const prog: Insn[] = [
    ins(LDX_MEM_W, 2, 1, 0, 0), // r2 = access_type
    ins(ALU32_AND_K, 2, 0, 0, 0xffff), // r2 = type
    ins(LDX_MEM_W, 3, 1, 0, 0),
    ins(ALU32_RSH_K, 3, 0, 0, 16), // r3 = access
    ins(LDX_MEM_W, 4, 1, 4, 0), // r4 = major
    ins(LDX_MEM_W, 5, 1, 8, 0), // r5 = minor
  ];
  const verdict = st.defaultAllow ? 0 : 1; // what an exception decides
  for (const e of st.exceptions) {
    const block: Insn[] = [];
    const jumps: number[] = []; // indexes in block of "skip this exception" jumps
    const skipIf = (code: number, reg: number, imm: number): void => {
      jumps.push(block.length);
      block.push(ins(code, reg, 0, 0, imm));
    };
    skipIf(JNE_K, 2, DEV_TYPE[e.type]);
    if (st.defaultAllow) {
      // deny-list: the exception hits when any requested bit is in it.
      if (e.access !== ACC_ALL) {
        block.push(ins(ALU32_MOV_X, 1, 3, 0, 0), ins(ALU32_AND_K, 1, 0, 0, e.access));
        skipIf(JEQ_K, 1, 0);
      }
    } else if (e.access !== ACC_ALL) {
      // allow-list: the exception hits when every requested bit is in it.
      block.push(ins(ALU32_MOV_X, 1, 3, 0, 0), ins(ALU32_AND_K, 1, 0, 0, ~e.access & ACC_ALL));
      skipIf(JNE_K, 1, 0);
    }
    if (e.major >= 0) skipIf(JNE_K, 4, e.major);
    if (e.minor >= 0) skipIf(JNE_K, 5, e.minor);
    block.push(ins(ALU64_MOV_K, 0, 0, 0, verdict), ins(EXIT, 0, 0, 0, 0));
    for (const j of jumps) (block[j] as Insn).off = block.length - (j + 1);
    prog.push(...block);
  }
  prog.push(ins(ALU64_MOV_K, 0, 0, 0, st.defaultAllow ? 1 : 0), ins(EXIT, 0, 0, 0, 0));
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((p, i) => {
    buf.writeUInt8(p.code, i * 8);
    buf.writeUInt8((p.src << 4) | p.dst, i * 8 + 1);
    buf.writeInt16LE(p.off, i * 8 + 2);
    buf.writeInt32LE(p.imm, i * 8 + 4);
  });
  return buf;
}
