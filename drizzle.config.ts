import { defineConfig } from 'drizzle-kit';

// drizzle-kit writes plain SQL migrations that `wrangler d1 migrations apply` understands.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema/index.ts',
  out: './migrations',
});
