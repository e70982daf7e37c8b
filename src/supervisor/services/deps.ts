// What every service of the supervisor is built from.
import type { Logger } from '../../common/log.ts';
import type { EventBus } from '../events/bus.ts';
import type { Metadata } from '../metadata/metadata.ts';
import type { RpcContext } from '../rpc.ts';
import type { TaskManager } from '../tasks/manager.ts';

export interface ServiceDeps {
  log: Logger;
  metadata: Metadata;
  bus: EventBus;
  rpc: RpcContext;
  /** Set once the task manager exists (containers with a task cannot be deleted). */
  tasks?: TaskManager;
}
