// The plan's wire format for the executor (native/executor/plan.c): records
// of length-prefixed fields, little-endian u32 counts and lengths. Binary so
// the C side needs no parser beyond reading integers and bytes.
export type PlanField = string | number | bigint | Buffer;
export type PlanRecord = PlanField[];

export function encodePlan(records: PlanRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const rec of records) {
    const head = Buffer.alloc(4);
    head.writeUInt32LE(rec.length);
    parts.push(head);
    for (const f of rec) {
      const b = Buffer.isBuffer(f) ? f : Buffer.from(String(f), 'utf8');
      if (!Buffer.isBuffer(f) && b.includes(0)) throw new Error(`plan field contains NUL: ${JSON.stringify(String(f))}`);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

/** The inverse, for tests and debugging. */
export function decodePlan(buf: Buffer): string[][] {
  const out: string[][] = [];
  let off = 0;
  while (off < buf.length) {
    const n = buf.readUInt32LE(off);
    off += 4;
    const rec: string[] = [];
    for (let i = 0; i < n; i++) {
      const l = buf.readUInt32LE(off);
      off += 4;
      rec.push(buf.subarray(off, off + l).toString('utf8'));
      off += l;
    }
    out.push(rec);
  }
  return out;
}
