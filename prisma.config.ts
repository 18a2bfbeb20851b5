import { defineConfig } from 'prisma/config';

// Used only by the Prisma CLI (generate; migrate where its engine can be fetched).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test' },
});
