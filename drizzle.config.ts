import { defineConfig } from 'drizzle-kit';

// `npx drizzle-kit generate` turns changes of db/schema.ts into a new SQL migration under
// db/migrations; `pulp-manager migrate` applies them (db/migrate.ts). No credentials here:
// generating needs none, and applying goes through our own migrate command.
export default defineConfig({
  dialect: 'mysql',
  schema: './db/schema.ts',
  out: './db/migrations',
  breakpoints: true,
  strict: true,
  verbose: true,
});
