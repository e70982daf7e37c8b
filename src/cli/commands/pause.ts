// dray pause: pause all processes within one or more containers.
import { containerVerb } from '../each.ts';

export const command = containerVerb({
  action: 'pause',
  use: 'pause CONTAINER [CONTAINER...]',
  short: 'Pause all processes within one or more containers',
});
