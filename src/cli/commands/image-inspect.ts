// dray image inspect.
import { typedInspect } from './inspect.ts';

export const command = typedInspect('image');
