// dray network inspect.
import { typedInspect } from './inspect.ts';

export const command = typedInspect('network');
