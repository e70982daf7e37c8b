// What every service of the supervisor is built from.
import type { Logger } from '../../common/log.ts';
import type { EventBus } from '../events/bus.ts';
import type { Metadata } from '../metadata/metadata.ts';
import type { RpcContext } from '../rpc.ts';

export interface ServiceDeps {
  log: Logger;
  metadata: Metadata;
  bus: EventBus;
  rpc: RpcContext;
}
