// A supervisor that restarts finds its shims again by their state dirs:
// a live shim answers on its socket (its state has any exit it recorded
// meanwhile); a dead one leaves exit.json if the container's exit was recorded
// before it died. A dead shim whose container may still run is the caller's
// to clean up (`runtime delete --force`).
import { ShimClient, ShimConnectionError, type ShimExit, type ShimState } from './client.ts';
import { readExitFile, shimPaths } from './launch.ts';

export type AdoptedShim =
  | { alive: true; client: ShimClient; state: ShimState }
  | { alive: false; exit: ShimExit | null };

/** `socketPath`: where the shim was told to listen, if not in its state dir. */
export async function adoptShim(stateDir: string, socketPath?: string, timeoutMs = 5000): Promise<AdoptedShim> {
  let client: ShimClient;
  try {
    client = await ShimClient.connect(socketPath ?? shimPaths(stateDir).socket, timeoutMs);
  } catch (err) {
    if (!(err instanceof ShimConnectionError)) throw err;
    return { alive: false, exit: readExitFile(stateDir) };
  }
  try {
    return { alive: true, client, state: await client.state() };
  } catch (err) {
    client.close();
    if (!(err instanceof ShimConnectionError)) throw err;
    return { alive: false, exit: readExitFile(stateDir) }; // it died just now
  }
}
