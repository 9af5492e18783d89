// `node --import ./record-module-loads.ts …`: writes the URL of every module the process loaded,
// one a line, to $SLUICE_MODULE_LOG when it exits (test/startup-modules.test.ts).

import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const loaded: string[] = [];
registerHooks({
  load(url, context, nextLoad) {
    loaded.push(url);
    return nextLoad(url, context);
  },
});
const out = process.env.SLUICE_MODULE_LOG;
if (out !== undefined) process.on('exit', () => writeFileSync(out, `${loaded.join('\n')}\n`));
