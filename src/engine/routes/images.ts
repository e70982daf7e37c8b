// /images/...: pull (create), list, inspect, history, tag, remove, load,
// save (get), push, prune, import (body or URL, --change); search answers 501.
import { apiVersionAtLeast } from '../api/api-version.ts';
import { ApiError, badRequest, notImplemented } from '../api/errors.ts';
import type { RequestContext } from '../api/context.ts';
import type { Router } from '../api/router.ts';
import type { ContainerManager } from '../containers/manager.ts';
import { parseFilters } from '../containers/view.ts';
import { applyChanges } from '../containers/changes.ts';
import { download, importUrl, withProgress } from '../images/import-url.ts';
import type { Descriptor } from '../../images/content/types.ts';
import type { EventBus } from '../events/bus.ts';
import { isDangling, removeImage, type EngineImage, type ImageService } from '../images/service.ts';
import { pull } from '../../images/pull.ts';
import { chainIds } from '../../images/unpack.ts';
import { push } from '../../images/push.ts';
import { saveImages } from '../../images/archive/save.ts';
import { importRootfs } from '../../images/archive/import.ts';
import { RegistryClient } from '../../images/registry/client.ts';
import type { Credentials } from '../../images/registry/credentials.ts';
import type { ProgressEvent } from '../../images/registry/progress.ts';
import { familiarName, familiarString, formatReference, isValidTag, parseImageReference, parseNormalized } from '../../images/reference/reference.ts';

export interface ImageRouteDeps {
  images: ImageService;
  containers: ContainerManager;
  events: EventBus;
  registry: { insecureRegistries?: string[] };
}

/** X-Registry-Auth: base64url JSON {username, password, identitytoken, registrytoken}. */
function registryAuth(ctx: RequestContext): Credentials | undefined {
  const h = ctx.req.headers['x-registry-auth'];
  if (typeof h !== 'string' || h === '') return undefined;
  try {
    const v = JSON.parse(Buffer.from(h.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as Record<string, string>;
    const c: Credentials = {};
    if (v['username']) c.username = v['username'];
    if (v['password']) c.password = v['password'];
    if (v['identitytoken']) c.identityToken = v['identitytoken'];
    if (v['registrytoken']) c.registryToken = v['registrytoken'];
    return Object.keys(c).length ? c : undefined;
  } catch {
    return undefined; // Docker ignores an unreadable auth header
  }
}

function progressLine(e: ProgressEvent): Record<string, unknown> {
  const o: Record<string, unknown> = { status: e.detail ? `${e.status} ${e.detail}` : e.status, id: e.id };
  if (e.progressDetail) o['progressDetail'] = e.progressDetail;
  else o['progressDetail'] = {};
  return o;
}

/** A JSON-lines progress stream whose status line waits for the first message, so an early error is a plain HTTP error. */
class JsonStream {
  readonly #ctx: RequestContext;
  started = false;
  constructor(ctx: RequestContext) { this.#ctx = ctx; }
  write(o: unknown): void {
    if (!this.started) { this.#ctx.startStream(200, 'application/json'); this.started = true; }
    this.#ctx.res.write(JSON.stringify(o) + '\r\n');
  }
  fail(err: Error): void {
    if (!this.started) throw err;
    this.write({ errorDetail: { message: err.message }, error: err.message });
  }
  end(): void {
    if (!this.started) { this.#ctx.startStream(200, 'application/json'); this.started = true; }
    this.#ctx.res.end();
  }
}

export function imageInspect(svc: ImageService, img: EngineImage, size: number, apiVersion: string): Record<string, unknown> {
  const c = img.config;
  const out: Record<string, unknown> = {
    Id: img.id,
    RepoTags: svc.repoTags(img),
    RepoDigests: svc.repoDigests(img),
    Parent: '',
    Comment: (c.history ?? []).at(-1)?.comment ?? '',
    Created: c.created ?? '0001-01-01T00:00:00Z',
    DockerVersion: (c['docker_version'] as string | undefined) ?? '',
    Author: c.author ?? '',
    Config: { Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null, ...(c.config ?? {}) },
    Architecture: c.architecture,
    Os: c.os,
    Size: size,
    GraphDriver: { Name: 'overlayfs', Data: null },
    RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
  if (c.variant) out['Variant'] = c.variant;
  if (!apiVersionAtLeast(apiVersion, '1.44')) {
    out['VirtualSize'] = size;
    out['Container'] = '';
    out['ContainerConfig'] = out['Config'];
  }
  return out;
}

export function imageRoutes(router: Router, d: ImageRouteDeps): void {
  const { images } = d;

  // docker import: dockerd's order (the name, the --change lines, then the
  // source: the request body for "-", else an http(s) URL with progress)
  const importImage = async (ctx: RequestContext, fromSrc: string): Promise<void> => {
    const repo = ctx.query.get('repo');
    let name: string | undefined;
    if (repo) {
      try {
        const p = parseNormalized(repo);
        if (p.digest !== undefined) throw new Error('cannot import digest reference');
        name = formatReference({ domain: p.domain, path: p.path, tag: ctx.query.get('tag') || p.tag || 'latest' });
      } catch (err) {
        throw badRequest((err as Error).message);
      }
    }
    const config = applyChanges({}, ctx.query.getAll('changes'));
    const src = fromSrc === '-' ? '-' : importUrl(fromSrc);
    const message = ctx.query.get('message') || `Imported from ${src}`;
    const record = async (r: { id: string; target: Descriptor }): Promise<void> => {
      images.stores.images.put(name ?? `dray-dangling@${r.id}`, r.target);
      await images.unpack(await images.resolve(r.id));
      d.events.publish('image', 'import', r.id, { name: repo ?? '' });
    };
    if (src === '-') {
      const r = await importRootfs(ctx.req, { content: images.stores.content, config, message });
      await record(r);
      ctx.startStream(200, 'application/json');
      ctx.res.end(JSON.stringify({ status: r.id }) + '\r\n');
      return;
    }
    const dl = await download(src);
    const out = new JsonStream(ctx);
    out.write({ status: `Downloading from ${src}` });
    try {
      const r = await importRootfs(withProgress(dl, (line) => out.write(line)), { content: images.stores.content, config, message });
      await record(r);
      out.write({ status: r.id });
    } catch (err) {
      dl.body.destroy();
      out.fail(err as Error);
    }
    out.end();
  };
  const users = () => d.containers.store.all().map((r) => ({ id: r.Id, imageId: r.Image, running: r.State.Running }));

  router.add('GET', '/images/json', async (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    for (const k of filters.keys()) if (!['dangling', 'label', 'before', 'since', 'reference', 'until'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const all = await images.list();
    const dangling = filters.get('dangling')?.[0];
    const before = filters.get('before')?.[0] ? await images.resolve(filters.get('before')![0]!) : undefined;
    const since = filters.get('since')?.[0] ? await images.resolve(filters.get('since')![0]!) : undefined;
    const refs = filters.get('reference') ?? [];
    const labels = filters.get('label') ?? [];
    const rows: Record<string, unknown>[] = [];
    for (const img of all) {
      let tags = images.repoTags(img);
      // the reference filter also narrows RepoTags to the matching ones (as dockerd)
      if (refs.length) tags = tags.filter((t) => refs.some((r) => globMatch(r, t) || globMatch(r, t.replace(/:[^:/]+$/, ''))));
      if (dangling !== undefined && (dangling === 'true' || dangling === '1') !== (tags.length === 0)) continue;
      const created = img.config.created ?? '';
      if (before && !(created < (before.config.created ?? ''))) continue;
      if (since && !(created > (since.config.created ?? ''))) continue;
      if (refs.length && tags.length === 0) continue;
      const imgLabels = img.config.config?.Labels ?? {};
      if (!labels.every((l) => { const i = l.indexOf('='); return i === -1 ? l in imgLabels : imgLabels[l.slice(0, i)] === l.slice(i + 1); })) continue;
      const size = await images.size(img);
      const row: Record<string, unknown> = {
        Containers: -1, Created: Math.floor(Date.parse(created || '1970-01-01T00:00:00Z') / 1000), Id: img.id,
        Labels: img.config.config?.Labels ?? null, ParentId: '', RepoDigests: images.repoDigests(img),
        RepoTags: tags.length ? tags : (apiVersionAtLeast(ctx.version, '1.43') ? [] : ['<none>:<none>']), SharedSize: -1, Size: size,
      };
      if (!apiVersionAtLeast(ctx.version, '1.44')) row['VirtualSize'] = size;
      rows.push(row);
    }
    rows.sort((a, b) => (b['Created'] as number) - (a['Created'] as number));
    ctx.send(200, rows);
  });

  router.add('GET', '/images/{name*}/json', async (ctx) => {
    const img = await images.resolve(ctx.param('name'));
    ctx.send(200, imageInspect(images, img, await images.size(img), ctx.version));
  });

  router.add('GET', '/images/{name*}/history', async (ctx) => {
    const img = await images.resolve(ctx.param('name'));
    const hist = img.config.history ?? [];
    const out: Record<string, unknown>[] = [];
    let layer = 0;
    // Docker shows each layer's unpacked size: its snapshot's own usage
    const layerSizes: number[] = [];
    for (const c of chainIds(img.config.rootfs.diff_ids)) layerSizes.push(await images.layerSize(c));
    for (const h of hist) {
      const size = h.empty_layer ? 0 : (layerSizes[layer++] ?? 0);
      out.push({ Id: '<missing>', Created: Math.floor(Date.parse(h.created ?? '1970-01-01T00:00:00Z') / 1000), CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: h.comment ?? '' });
    }
    out.reverse();
    if (out[0]) { out[0]['Id'] = img.id; out[0]['Tags'] = images.repoTags(img); }
    ctx.send(200, out);
  });

  router.add('POST', '/images/{name*}/tag', async (ctx) => {
    const img = await images.resolve(ctx.param('name'));
    const repo = ctx.query.get('repo') ?? '';
    const tag = ctx.query.get('tag') || 'latest';
    if (!isValidTag(tag)) throw badRequest(`invalid tag format`);
    let name: string;
    try {
      const r = parseNormalized(repo);
      if (r.digest !== undefined) throw new Error('refusing to create a tag with a digest reference');
      name = formatReference({ domain: r.domain, path: r.path, tag: r.tag ?? tag });
    } catch (err) {
      throw badRequest((err as Error).message);
    }
    images.stores.images.put(name, img.target);
    d.events.publish('image', 'tag', img.id, { name: familiarString(parseNormalized(name)) });
    ctx.res.writeHead(201);
    ctx.res.end();
  });

  router.add('DELETE', '/images/{name*}', async (ctx) => {
    const name = ctx.param('name');
    const items = await removeImage(images, name, ctx.flag('force'), users());
    for (const it of items) {
      if ('Untagged' in it) d.events.publish('image', 'untag', it.Untagged, { name: it.Untagged });
      else d.events.publish('image', 'delete', it.Deleted, { name });
    }
    ctx.send(200, items);
  });

  router.add('POST', '/images/load', async (ctx) => {
    let messages: string[];
    try {
      messages = await images.load(ctx.req);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw badRequest((err as Error).message);
    }
    ctx.startStream(200, 'application/json');
    for (const m of messages) {
      ctx.res.write(JSON.stringify({ stream: `${m}\n` }) + '\n');
      const name = m.replace(/^Loaded image(?: ID)?: /, '');
      d.events.publish('image', 'load', name, { name });
    }
    ctx.res.end();
  });

  const save = async (ctx: RequestContext, names: string[]): Promise<void> => {
    const list: { name: string; target: EngineImage['target'] }[] = [];
    for (const n of names) {
      const img = await images.resolve(n);
      let recName = '';
      try { recName = formatReference(parseImageReference(n)); } catch { /* an ID */ }
      const rec = img.records.find((r) => r.name === recName);
      if (rec) list.push({ name: rec.name, target: rec.target });
      else {
        const named = img.records.filter((r) => !isDangling(r.name));
        if (named.length) for (const r of named) list.push({ name: r.name, target: r.target });
        else list.push({ name: '', target: img.target });
      }
    }
    ctx.startStream(200, 'application/x-tar');
    await saveImages({ content: images.stores.content, images: list }, (chunk) => new Promise<void>((resolve, reject) => {
      ctx.res.write(chunk, (err) => (err ? reject(err) : resolve()));
    }));
    ctx.res.end();
  };
  router.add('GET', '/images/get', (ctx) => save(ctx, ctx.query.getAll('names')));
  router.add('GET', '/images/{name*}/get', (ctx) => save(ctx, [ctx.param('name')]));

  router.add('POST', '/images/create', async (ctx) => {
    const fromSrc = ctx.query.get('fromSrc');
    if (fromSrc !== null) {
      await importImage(ctx, fromSrc);
      return;
    }
    const from = ctx.query.get('fromImage') ?? '';
    if (!from) throw badRequest('fromImage or fromSrc must be given');
    let ref = from;
    const tag = ctx.query.get('tag');
    if (tag) ref = tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`;
    let parsed;
    try { parsed = parseImageReference(ref); } catch (err) { throw badRequest((err as Error).message); }
    const creds = registryAuth(ctx);
    const client = new RegistryClient({ insecureRegistries: d.registry.insecureRegistries ?? [], ...(creds ? { credentials: () => creds } : {}) });
    const out = new JsonStream(ctx);
    const before = images.stores.images.get(formatReference(parsed));
    try {
      out.write({ status: `Pulling from ${familiarName(parsed)}`, id: parsed.tag ?? parsed.digest ?? 'latest' });
      // Layers are applied while they download; the unpack after it only checks the chain.
      const r = await pull(images.stores, client, formatReference(parsed), { onProgress: (e) => out.write(progressLine(e)), unpackTo: { snapshotter: images.snapshotter } });
      images.markSource(r.target.digest, parsed.domain, parsed.path);
      const img = await images.resolve(formatReference(parsed));
      await images.unpack(img);
      out.write({ status: `Digest: ${r.target.digest}` });
      const upToDate = before?.target.digest === r.target.digest;
      out.write({ status: `Status: ${upToDate ? 'Image is up to date for' : 'Downloaded newer image for'} ${familiarString(parsed)}` });
      d.events.publish('image', 'pull', familiarString(parsed), { name: familiarString(parsed) });
    } catch (err) {
      const e = err as Error;
      if (!out.started || /manifest unknown|not found/.test(e.message)) {
        if (!out.started) throw new ApiError(/manifest unknown|not found|does not exist/.test(e.message) ? 404 : 500, e.message);
      }
      out.fail(e);
    } finally {
      client.close();
    }
    out.end();
  });

  router.add('POST', '/images/{name*}/push', async (ctx) => {
    const name = ctx.param('name');
    const tag = ctx.query.get('tag');
    const ref = tag ? `${name}:${tag}` : name;
    let parsed;
    try { parsed = parseImageReference(ref); } catch (err) { throw badRequest((err as Error).message); }
    if (!images.stores.images.get(formatReference(parsed))) throw new ApiError(404, `An image does not exist locally with the tag: ${familiarName(parsed)}`);
    const creds = registryAuth(ctx);
    const client = new RegistryClient({ insecureRegistries: d.registry.insecureRegistries ?? [], ...(creds ? { credentials: () => creds } : {}) });
    const out = new JsonStream(ctx);
    try {
      out.write({ status: `The push refers to repository [${parsed.domain === 'docker.io' ? 'docker.io/' + parsed.path : `${parsed.domain}/${parsed.path}`}]` });
      const r = await push(images.stores, client, formatReference(parsed), { onProgress: (e) => out.write(progressLine(e)) });
      const rec = images.stores.images.get(formatReference(parsed));
      if (rec && rec.target.digest === r.digest) images.markSource(r.digest, parsed.domain, parsed.path);
      out.write({ status: `${parsed.tag ?? 'latest'}: digest: ${r.digest} size: ${r.size}` });
      out.write({ progressDetail: {}, aux: { Tag: parsed.tag ?? 'latest', Digest: r.digest, Size: r.size } });
      d.events.publish('image', 'push', familiarString(parsed), { name: familiarString(parsed) });
    } catch (err) {
      out.fail(err as Error);
    } finally {
      client.close();
    }
    out.end();
  });

  router.add('POST', '/images/prune', async (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    const onlyDangling = (filters.get('dangling')?.[0] ?? 'true') !== 'false';
    const used = new Set(users().map((u) => u.imageId));
    const deleted: Record<string, string>[] = [];
    for (const img of await images.list()) {
      if (used.has(img.id)) continue;
      if (onlyDangling && images.repoTags(img).length) continue;
      const items = await removeImage(images, img.id, true, []).catch(() => []);
      for (const it of items) deleted.push(it as Record<string, string>);
    }
    ctx.send(200, { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: 0 });
  });

  router.add('GET', '/images/search', () => { throw notImplemented('searching registries is not supported by drayd'); });
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}$`);
  return re.test(s);
}
