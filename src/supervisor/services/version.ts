// dray.services.version.v1.Version.
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { DRAY_VERSION } from '../../common/version.ts';
import type { VersionInfo } from '../api/types.ts';
import { unary } from '../rpc.ts';
import type { ServiceDeps } from './deps.ts';

export const API_VERSION = 'v1';

export function versionService(d: ServiceDeps): UntypedServiceImplementation {
  return {
    Version: unary(d.rpc, 'version.Version', (): VersionInfo => ({ version: DRAY_VERSION, revision: process.env['DRAY_REVISION'] ?? '', api: API_VERSION })),
  };
}
