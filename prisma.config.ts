import { defineConfig } from 'prisma/config';

// DATABASE_URL may be unset (the embedded database is the default); `prisma generate` must
// still work then, so the URL is read without Prisma's throwing env() helper.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/mailferry' },
});
