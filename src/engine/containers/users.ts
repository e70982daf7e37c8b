// Resolves a container's User ("name", "uid", "name:group", "uid:gid")
// against the image's /etc/passwd and /etc/group, read inside the rootfs
// without following symlinks out of it (a symlinked passwd is treated as absent).
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { badRequest } from '../api/errors.ts';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

function readEtc(rootfs: string, file: string): string[][] {
  const dir = join(rootfs, 'etc');
  try {
    if (!lstatSync(dir).isDirectory()) return [];
    const p = join(dir, file);
    if (!lstatSync(p).isFile()) return [];
    return readFileSync(p, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

const NUM = /^\d+$/;

export function resolveUser(rootfs: string, spec: string, groupAdd: string[] = []): ResolvedUser {
  const passwd = readEtc(rootfs, 'passwd');
  const groups = readEtc(rootfs, 'group');
  const [userPart = '', groupPart] = spec.split(':', 2);
  let uid = 0;
  let gid = 0;
  let name = '';
  let home = '/';
  if (userPart !== '') {
    const entry = passwd.find((e) => e[0] === userPart) ?? (NUM.test(userPart) ? passwd.find((e) => e[2] === userPart) : undefined);
    if (entry) {
      name = entry[0]!;
      uid = Number(entry[2]);
      gid = Number(entry[3]);
      home = entry[5] || '/';
    } else if (NUM.test(userPart)) {
      uid = Number(userPart);
    } else {
      throw badRequest(`unable to find user ${userPart}: no matching entries in passwd file`);
    }
  } else {
    const root = passwd.find((e) => e[2] === '0');
    if (root) { name = root[0]!; home = root[5] || '/'; }
  }
  if (groupPart !== undefined && groupPart !== '') {
    const g = groups.find((e) => e[0] === groupPart) ?? (NUM.test(groupPart) ? groups.find((e) => e[2] === groupPart) : undefined);
    if (g) gid = Number(g[2]);
    else if (NUM.test(groupPart)) gid = Number(groupPart);
    else throw badRequest(`unable to find group ${groupPart}: no matching entries in group file`);
  }
  // Docker lists the primary group among the supplementary ones
  const extra = new Set<number>([gid]);
  if (name !== '' && (groupPart === undefined || groupPart === '')) {
    for (const g of groups) {
      if ((g[3] ?? '').split(',').includes(name)) extra.add(Number(g[2]));
    }
  }
  for (const ga of groupAdd) {
    const g = groups.find((e) => e[0] === ga);
    if (g) extra.add(Number(g[2]));
    else if (NUM.test(ga)) extra.add(Number(ga));
    else throw badRequest(`Unable to find group ${ga}`);
  }
  if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid)) throw badRequest(`invalid user ${spec}`);
  return { uid, gid, additionalGids: [...extra].sort((a, b) => a - b), home };
}
