// The Docker Engine API's /volumes endpoints over a VolumeStore, for
// drayd's route table: `volumeRoutes(router, store)` is all the engine adds.
import type { RequestContext } from '../engine/api/context.ts';
import { badRequest } from '../engine/api/errors.ts';
import type { Router } from '../engine/api/router.ts';
import { normalizeFilters, type Filters } from './filters.ts';
import type { VolumeCreateRequest, VolumeStore } from './store.ts';

/** The `filters` query parameter (JSON), decoded as Docker's filters.FromJSON. */
export function filtersQuery(ctx: RequestContext): Filters {
  const raw = ctx.query.get('filters');
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw badRequest(`invalid filter: ${(err as Error).message}`);
  }
  return normalizeFilters(parsed);
}

/** A create body: Docker ignores unknown fields; known ones must have their types. */
function createRequest(body: unknown): VolumeCreateRequest {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('invalid JSON: the body must be an object');
  const b = body as Record<string, unknown>;
  const str = (k: string): string | undefined => {
    if (b[k] === undefined || b[k] === null) return undefined;
    if (typeof b[k] !== 'string') throw badRequest(`invalid JSON: ${k} must be a string`);
    return b[k] as string;
  };
  const map = (k: string): Record<string, string> | null | undefined => {
    const v = b[k];
    if (v === undefined) return undefined;
    if (v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v) || Object.values(v as object).some((x) => typeof x !== 'string')) {
      throw badRequest(`invalid JSON: ${k} must be an object of strings`);
    }
    return v as Record<string, string>;
  };
  const req: VolumeCreateRequest = {};
  const name = str('Name');
  const driver = str('Driver');
  const opts = map('DriverOpts');
  const labels = map('Labels');
  if (name !== undefined) req.Name = name;
  if (driver !== undefined) req.Driver = driver;
  if (opts !== undefined) req.DriverOpts = opts;
  if (labels !== undefined) req.Labels = labels;
  return req;
}

export function volumeRoutes(router: Router, store: VolumeStore): void {
  router.add('GET', '/volumes', (ctx) => {
    ctx.send(200, { Volumes: store.list(filtersQuery(ctx)), Warnings: null });
  });
  router.add('POST', '/volumes/create', async (ctx) => {
    ctx.send(201, store.create(createRequest(await ctx.json())));
  });
  router.add('POST', '/volumes/prune', async (ctx) => {
    ctx.send(200, await store.prune(filtersQuery(ctx), ctx.version));
  });
  router.add('GET', '/volumes/{name}', (ctx) => {
    ctx.send(200, store.inspect(ctx.param('name')));
  });
  router.add('DELETE', '/volumes/{name}', (ctx) => {
    store.remove(ctx.param('name'), { force: ctx.flag('force') });
    ctx.noContent();
  });
}
