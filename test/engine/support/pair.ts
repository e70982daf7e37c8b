// drayd and the harness's real dockerd side by side, both with the busybox
// test image loaded: where every comparison test starts. A start that fails
// stops what did start; stop() stops both.
import { startDockerd, type DockerdPeer } from '../../harness/index.ts';
import { testImage } from '../../images/index.ts';
import { startDrayd, type Drayd } from './drayd.ts';

export interface DaemonPair {
  dray: Drayd;
  real: DockerdPeer;
  stop(): Promise<void>;
}

export async function startDaemonPair(): Promise<DaemonPair> {
  const img = await testImage('busybox');
  const dray = await startDrayd();
  let real: DockerdPeer;
  try {
    real = await startDockerd();
  } catch (err) {
    await dray.stop();
    throw err;
  }
  const stop = async (): Promise<void> => {
    try { await dray.stop(); } finally { real.stop(); }
  };
  try {
    await Promise.all([dray.docker(['load', '-i', img.dockerArchive]), real.docker(['load', '-i', img.dockerArchive])]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { dray, real, stop };
}
