import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import vue from '@vitejs/plugin-vue';
import { defineConfig, type Plugin } from 'vite';

/**
 * Writes `.gz` and `.br` beside each text asset; server/http/server.ts (sirv) serves them to clients
 * that accept them, so the server never compresses on the fly.
 */
function precompress(): Plugin {
  return {
    name: 'statushub:precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      const dir = options.dir!;
      for (const file of [...Object.keys(bundle), 'index.html']) {
        if (!/\.(js|css|html|svg)$/.test(file)) continue;
        const source = readFileSync(join(dir, file));
        if (source.length < 1024) continue;
        writeFileSync(join(dir, `${file}.gz`), gzipSync(source, { level: 9 }));
        writeFileSync(join(dir, `${file}.br`), brotliCompressSync(source, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
      }
    },
  };
}

/** `npm run build:web` writes web/dist, which server/http/server.ts serves; `npm run dev:web` proxies the API. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [vue(), precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The public bundle has a budget (≤120 KB gzip); Vite prints each file's gzip size.
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/graphql': { target: 'http://localhost:3000', ws: true },
    },
  },
});
