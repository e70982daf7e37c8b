// dray volume inspect.
import { typedInspect } from './inspect.ts';

export const command = typedInspect('volume');
