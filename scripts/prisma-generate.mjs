// Prisma's CLI tries to download a native schema engine on every command; `generate` does not
// need it, so point it at a binary that exists to keep installs working without that download.
import { spawnSync } from 'node:child_process';

const result = spawnSync(process.execPath, ['node_modules/prisma/build/index.js', 'generate'], {
  stdio: 'inherit',
  env: { PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false', PRISMA_HIDE_UPDATE_MESSAGE: '1', ...process.env },
});
process.exit(result.status ?? 1);
