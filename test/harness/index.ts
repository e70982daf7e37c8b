// The real-peer harness: start real dockerd, containerd, docker-registry on
// private folders and sockets; every peer has stop(), and whatever a test
// forgets is stopped when its process exits.
export { startDockerd, ping, DOCKER_CLI, DOCKERD, type DockerdPeer, type DockerdOptions, type DockerCli } from './dockerd.ts';
export { startContainerd, CONTAINERD, CTR, type ContainerdPeer, type ContainerdOptions } from './containerd.ts';
export { startRegistry, getStatus, makeCertificates, REGISTRY, type RegistryPeer, type RegistryOptions } from './registry.ts';
export { runcPath, crunPath } from './runtimes.ts';
export { freePort } from './ports.ts';
export { stopAllPeers, runningPeers, type Peer } from './peers.ts';
export { execCommand, execChecked, waitUntil, type ExecResult } from './exec.ts';
