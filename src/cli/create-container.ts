// POST /containers/create, pulling the image first when it is missing
// ("Unable to find image 'x:latest' locally") as docker's run/create do.
import { writeFileSync } from 'node:fs';
import { DaemonError } from './client/client.ts';
import { CliError, type Cli } from './command.ts';
import type { CreateRequest } from './container-opts.ts';
import { parseImageRef, pullImage } from './images.ts';
import { familiarString, withDefaultTag } from './reference.ts';

export async function createContainer(cli: Cli, req: CreateRequest, pull: string, quiet: boolean): Promise<string> {
  if (!['always', 'missing', 'never'].includes(pull)) throw new CliError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`, 125);
  const ref = withDefaultTag(parseImageRef(req.image));
  const shown = familiarString(ref);
  const doPull = async (): Promise<void> => {
    await pullImage(cli, req.image, cli.err, { platform: req.platform, quiet });
  };
  if (pull === 'always') await doPull();
  const create = (): Promise<{ Id: string; Warnings: string[] | null }> =>
    cli.client().json('POST', '/containers/create', { query: { name: req.name, platform: req.platform }, body: req.body });
  let res;
  try {
    res = await create();
  } catch (e) {
    if (!(e instanceof DaemonError) || e.status !== 404 || pull !== 'missing' || !/image/i.test(e.message)) throw e;
    cli.err.write(`Unable to find image '${shown}' locally\n`);
    await doPull();
    res = await create();
  }
  for (const w of res.Warnings ?? []) cli.err.write(`WARNING: ${w}\n`);
  const cidfile = (req.body['HostConfig'] as { ContainerIDFile?: string }).ContainerIDFile;
  if (cidfile) {
    try { writeFileSync(cidfile, res.Id, { flag: 'wx' }); } catch (e) { throw new CliError(`failed to create the container ID file: ${(e as Error).message}`, 125); }
  }
  return res.Id;
}
