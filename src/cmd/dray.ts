// dray: the command-line client (the docker CLI's role). Thin main over src/cli.
import { runMain } from '../common/run-main.ts';
import { DRAY_VERSION } from '../common/version.ts';

const HELP = `
Usage:  dray [OPTIONS] COMMAND

A self-sufficient runtime for containers

Options:
  -H, --host string   Daemon socket to connect to
  -v, --version       Print version information and quit
  -h, --help          Print usage
`;

runMain('dray', (argv) => {
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') { process.stdout.write(HELP.trimStart()); return 0; }
  if (first === '--version' || first === '-v') { process.stdout.write(`Dray version ${DRAY_VERSION}\n`); return 0; }
  process.stderr.write(`dray: '${first}' is not a dray command.\nSee 'dray --help'\n`);
  return 125;
});
