import { sql } from 'drizzle-orm';
import { queryRows } from '../../server/db/client.js';
import type { ExecutionResult } from 'graphql';
import { createYogaApp, type HubOptions, type Yoga } from '../../server/http/yoga-app.js';
import { newSecret } from '../../server/auth/secrets.js';
import { systemViewer } from '../../server/auth/viewer.js';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { apiTokens, audienceTokens, type PageRow } from '../../server/db/tables/index.js';
import type { TokenScope } from '../../server/domain/vocabulary.js';
import type { ServiceContext } from '../../server/services/context.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface RequestOptions {
  /** `public`, `internal`, `deployment:<slug>` (sent as x-statushub-audience). */
  audience?: string;
  /** Bearer token (API or audience token). */
  token?: string;
  cookie?: string;
  headers?: Record<string, string>;
}

export type GqlResult<T = any> = ExecutionResult<T> & { status: number; headers: Headers };

export interface TestHub {
  database: TestDatabase;
  page: PageRow;
  yoga: Yoga;
  /** A service context acting as the `system` actor, for arranging data. */
  system: ServiceContext;
  /** Execute a GraphQL operation in process through yoga.fetch. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, options?: RequestOptions): Promise<GqlResult<T>>;
  /** A fresh API token with these scopes. */
  apiToken(scopes: TokenScope[]): Promise<string>;
  /** A fresh audience token for the deployment. */
  audienceToken(deploymentId: string): Promise<string>;
  /** Rows in each table plus the event log length: proof that a rejected write changed nothing. */
  snapshotCounts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** `options`: anything of HubOptions but the database (e.g. tiny `limits`). */
export async function startTestHub(options: Omit<HubOptions, 'database'> = {}): Promise<TestHub> {
  const database = await createTestDatabase();
  const { page } = await ensureDefaultPage(database.db);
  const yoga = createYogaApp({ database, ...options });
  const system: ServiceContext = { db: database.db, viewer: systemViewer(page, 'test') };

  return {
    database,
    page,
    yoga,
    system,
    async gql(query, variables, options = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
      if (options.audience) headers['x-statushub-audience'] = options.audience;
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.cookie) headers.cookie = options.cookie;
      // Host is a forbidden fetch header: a custom domain goes into the URL instead.
      const origin = `http://${options.headers?.host ?? 'hub.test'}`;
      const response = await yoga.fetch(`${origin}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      return Object.assign(await response.json(), { status: response.status, headers: response.headers });
    },
    async apiToken(scopes) {
      const secret = newSecret('api');
      await database.db.insert(apiTokens).values({ pageId: page.id, name: `test ${scopes.join(' ')}`, tokenHash: secret.hash, prefix: secret.prefix, scopes });
      return secret.value;
    },
    async audienceToken(deploymentId) {
      const secret = newSecret('audience');
      await database.db.insert(audienceTokens).values({ pageId: page.id, deploymentId, label: 'test', tokenHash: secret.hash, prefix: secret.prefix });
      return secret.value;
    },
    async snapshotCounts() {
      const tables = await queryRows<{ name: string }>(
        database.db,
        sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
      );
      const counts: Record<string, number> = {};
      for (const { name } of tables) {
        const [row] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from ${sql.identifier(name)}`);
        counts[name] = row!.n;
      }
      return counts;
    },
    close: () => database.destroy(),
  };
}
