// Hands a seccomp user-notification listener fd to the agent at
// linux.seccomp.listenerPath, as the runtime spec says: one connection per
// container process, one message (the container process state JSON) with
// the fd attached (SCM_RIGHTS), then the connection is closed.
import net from 'node:net';
import { once } from 'node:events';
import { native } from '../../common/native.ts';

/** The OCI state of the container (state-schema.json). */
export interface OciState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** The runtime spec's "container process state" sent with the listener fd. */
export interface ContainerProcessState {
  ociVersion: string;
  /** Names of the fds sent along, in order. */
  fds: string[];
  pid: number;
  metadata?: string;
  state: OciState;
}

export function containerProcessState(state: OciState, pid: number, metadata?: string): ContainerProcessState {
  const s: ContainerProcessState = { ociVersion: state.ociVersion, fds: ['seccompFd'], pid, state };
  if (metadata !== undefined) s.metadata = metadata;
  return s;
}

/** Sends the listener fd (still owned by the caller) to the agent; throws when that fails. */
export async function sendSeccompListener(listenerPath: string, listenerFd: number, state: ContainerProcessState): Promise<void> {
  const sock = net.connect(listenerPath);
  try {
    await once(sock, 'connect');
    // net.Socket has no public fd; its handle's is the connected socket.
    const fd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
    native().sendFds(fd, [listenerFd], Buffer.from(JSON.stringify(state)));
  } catch (err) {
    throw new Error(`seccomp: sending the listener fd to ${listenerPath}: ${(err as Error).message}`, { cause: err });
  } finally {
    sock.end();
  }
}
