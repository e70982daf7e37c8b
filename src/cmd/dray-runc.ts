// dray-runc: the OCI runtime (runc's role). Thin main over src/runtime.
import { runMain } from '../common/run-main.ts';
import { DRAY_VERSION, OCI_SPEC_VERSION } from '../common/version.ts';

const HELP = `NAME:
   dray-runc - Open Container Initiative runtime

USAGE:
   dray-runc [global options] command [command options] [arguments...]
`;

runMain('dray-runc', (argv) => {
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') { process.stdout.write(HELP); return 0; }
  if (first === '--version' || first === '-v' || first === 'version') {
    process.stdout.write(`dray-runc version ${DRAY_VERSION}\nspec: ${OCI_SPEC_VERSION}\n`);
    return 0;
  }
  process.stderr.write(`dray-runc: unknown command ${JSON.stringify(first)}\n`);
  return 1;
});
