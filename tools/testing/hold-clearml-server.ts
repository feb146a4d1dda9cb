// Holds one local ClearML test server for a whole `npm test` (both passes), so that the four test projects that use
// ClearML (clearml-client, tracking, apps/clearml, e2e) and libs/pipeline share it instead of each starting and
// stopping their own (about 40 s each, twice per pass on a slow machine).
//
//   node --import tsx tools/testing/hold-clearml-server.ts <ready-file>
//
// It resolves the server exactly as the vitest fixture does (resolveClearmlServer: CLEARML_API_HOST from the
// environment, else ../shared/clearml-server/start.sh), takes a lease, writes one line to <ready-file>
// ("available <api host> (<source>)" or "unavailable <reason>") and waits. On SIGTERM/SIGINT it gives the lease back;
// if this process started the server and no other test process holds a lease, the server is stopped, as the fixture
// would. The tests' own fixtures find it running and leave it running.
import { writeFile } from 'node:fs/promises';
import { resolveClearmlServer } from './clearml-server.js';

const readyFile = process.argv[2];
if (!readyFile) {
  console.error('usage: hold-clearml-server.ts <ready-file>');
  process.exit(2);
}

const resolved = await resolveClearmlServer({ log: (l) => console.error(l) });
const { info } = resolved;
await writeFile(readyFile, info.available ? `available ${info.apiHost} (${info.source})\n` : `unavailable ${info.reason.split('\n')[0]}\n`);

let releasing = false;
const release = async () => {
  if (releasing) return;
  releasing = true;
  await resolved.release();
  process.exit(0);
};
process.on('SIGTERM', () => void release());
process.on('SIGINT', () => void release());
// Keep the event loop alive until a signal arrives.
setInterval(() => undefined, 1 << 30);
