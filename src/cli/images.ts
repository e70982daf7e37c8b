// Pulling and pushing through the engine, with docker's progress output
// and the registry credentials from config.json.
import type { Cli } from './command.ts';
import { CliError } from './command.ts';
import { credentials, loadConfig, registryAuthHeader } from './config.ts';
import { showProgress } from './progress.ts';
import { authKey, fullName, parseRef, ReferenceError, withDefaultTag, type ImageRef } from './reference.ts';

export function parseImageRef(s: string): ImageRef {
  try { return parseRef(s); } catch (e) {
    if (e instanceof ReferenceError) throw new CliError(e.message);
    throw e;
  }
}

export function authHeaderFor(cli: Cli, ref: ImageRef): string {
  return registryAuthHeader(credentials(loadConfig(cli.configDir), authKey(ref)));
}

/** POST /images/create, rendering progress on out (stderr for `run`). */
export async function pullImage(cli: Cli, image: string, out: NodeJS.WritableStream, opts: { all?: boolean; platform?: string; quiet?: boolean } = {}): Promise<void> {
  const ref = opts.all ? parseImageRef(image) : withDefaultTag(parseImageRef(image));
  const res = await cli.client().request('POST', '/images/create', {
    query: { fromImage: fullName(ref), tag: ref.digest ?? ref.tag, platform: opts.platform || undefined },
    headers: { 'X-Registry-Auth': authHeaderFor(cli, ref) },
  });
  await showProgress(out, res, opts.quiet);
}

