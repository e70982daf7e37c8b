// The OCI runtime as a library: what dray-containerd (and anything else in
// an already running Node process) calls instead of starting dray-runc.
// Every verb takes a RuntimeContext (state root, warning sink).
export { runtimeContext, DEFAULT_ROOT, type RuntimeContext } from './context.ts';
export { RuntimeError, ConfigError } from './errors.ts';
export { create, type CreateOptions, type Created } from './verbs/create.ts';
export { start } from './verbs/start.ts';
export { executorPath } from './process/executor-path.ts';
export type { ExecutorSpawner, SpawnedExecutor } from './process/launch.ts';
export { run } from './verbs/run.ts';
export { state } from './verbs/state.ts';
export { kill } from './verbs/kill.ts';
export { del } from './verbs/delete.ts';
export { list } from './verbs/list.ts';
export { exec, type ExecOptions } from './verbs/exec.ts';
export { pause, resume } from './verbs/pause.ts';
export { pids, psTable } from './verbs/ps.ts';
export { update, type UpdateFlags } from './verbs/update.ts';
export { events } from './verbs/events.ts';
export { features } from './verbs/features.ts';
export { defaultSpec } from './config/default-spec.ts';
export { validateSpec } from './config/validate.ts';
export { parseSignal } from './signals.ts';
export type { Spec, Process } from './config/types.ts';
