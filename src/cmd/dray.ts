// dray: the command-line client (the docker CLI's role). Thin main over src/cli/main.ts.
import { main, report } from '../cli/main.ts';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(report(err, !!process.env['DRAY_DEBUG'])),
);
