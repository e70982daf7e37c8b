// dray unpause: unpause all processes within one or more containers.
import { containerVerb } from '../each.ts';

export const command = containerVerb({
  action: 'unpause',
  use: 'unpause CONTAINER [CONTAINER...]',
  short: 'Unpause all processes within one or more containers',
});
