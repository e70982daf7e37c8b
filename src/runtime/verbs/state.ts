// state: the OCI state of one container, its status derived live.
import { containerCgroup } from '../cgroup.ts';
import type { RuntimeContext } from '../context.ts';
import { liveStatus, ociState } from '../state/status.ts';

export async function state(ctx: RuntimeContext, id: string): Promise<Record<string, unknown>> {
  const rec = ctx.store.read(id);
  return ociState(rec, liveStatus(ctx.store, rec, containerCgroup(rec)));
}
