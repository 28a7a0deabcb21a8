/**
 * `node --import tsx scripts/groupware-corpus/generate.ts --seed S [--scale 1] (--out DIR | --to URL)`:
 * writes the seeded corpus as one file per item (DIR/<collection>/<uid>.ics|.vcf), or loads
 * it into a CalDAV/CardDAV account (password from --to-password-file, MAILFERRY_TO_PASSWORD or the URL).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { resourceName } from '@/server/accounts/dav/dav-client';
import { parseArgs } from '@/server/cli/commands';
import { davEndpointFromUrl } from '@/server/cli/groupware-command';
import { generateGroupwareCorpus } from './corpus';
import { loadCorpus } from './load';

const { options } = parseArgs(process.argv.slice(2));
const seed = typeof options.seed === 'string' ? options.seed : 'mailferry';
const scale = typeof options.scale === 'string' ? Number(options.scale) : 1;
const corpus = generateGroupwareCorpus({ seed, scale });
const count = corpus.reduce((n, c) => n + c.items.length, 0);
if (typeof options.out === 'string') {
  for (const collection of corpus) {
    const dir = path.join(options.out, collection.slug);
    await fs.mkdir(dir, { recursive: true });
    for (const item of collection.items) await fs.writeFile(path.join(dir, resourceName(item.uid, collection.kind)), item.data);
  }
  console.log(`${count} items in ${corpus.length} collections written to ${options.out}`);
} else if (typeof options.to === 'string') {
  const passwordFile = typeof options['to-password-file'] === 'string' ? path.resolve(process.env.INIT_CWD ?? process.cwd(), options['to-password-file']) : undefined;
  const target = await davEndpointFromUrl(options.to, passwordFile, process.env.MAILFERRY_TO_PASSWORD);
  await loadCorpus({ serverUrl: target.serverUrl, username: target.user, password: target.password }, corpus);
  console.log(`${count} items in ${corpus.length} collections loaded into ${target.user}@${new URL(target.serverUrl).host}`);
} else {
  console.error('Usage: generate.ts --seed S [--scale 1] (--out DIR | --to https://USER@HOST/PATH [--to-password-file FILE])');
  process.exit(2);
}
