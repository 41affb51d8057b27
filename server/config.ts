import { z } from 'zod';

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  /** Real PostgreSQL when set; embedded PGlite otherwise. */
  DATABASE_URL: z.string().optional(),
  /** Where the embedded database lives. */
  DATA_DIR: z.string().default('./data/pglite'),
  /** Seed demo data into an empty database unless `false`. */
  SEED: z.enum(['true', 'false']).default('true'),
  /** The first admin; without these a random password is generated and printed once. */
  ADMIN_EMAIL: z.string().default('admin@statushub.local'),
  ADMIN_PASSWORD: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Serve cookies with `Secure` (behind TLS). */
  COOKIE_SECURE: z.enum(['true', 'false']).default('false'),
  /** Wake other nodes through Redis pub/sub as well as PostgreSQL NOTIFY. */
  REDIS_URL: z.string().optional(),
  /** Expose commit times per event at /debug/live (the fan-out benchmark reads them). */
  LIVE_DEBUG: z.enum(['true', 'false']).default('false'),
});

export type Config = z.infer<typeof envSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return envSchema.parse(env);
}
