// dray container inspect.
import { typedInspect } from './inspect.ts';

export const command = typedInspect('container', [{ name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' }]);
