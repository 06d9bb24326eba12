// The embed folder (issue 20): `npm run build` also writes web/dist-embed/, everything a blog needs to
// show the widget and nothing else: the <resnorm-playground> element (assets/resnorm-playground.js), the
// iframe page embed.html, the optional iframe resizer resnorm-resize.js, the engine (wasm/) and its data
// (data/). No index.html and no file named like a site's own (404.html, favicon, style.css...), so it can
// be copied into any folder of any static host (docs/embedding.md). Every URL in it is relative to the
// script that uses it, so the folder works at any path, and from another origin that sends CORS headers.
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const web = fileURLToPath(new URL('.', import.meta.url));
const outDir = resolve(web, 'dist-embed');

/** Copies the engine and the data files the widgets fetch (not the whole public folder). */
function engineFiles(): Plugin {
  return {
    name: 'resnorm-embed-files',
    apply: 'build',
    closeBundle() {
      const pub = resolve(web, 'public');
      for (const dir of ['wasm', 'data']) {
        if (!existsSync(resolve(pub, dir))) continue;
        mkdirSync(resolve(outDir, dir), { recursive: true });
        for (const f of readdirSync(resolve(pub, dir))) cpSync(resolve(pub, dir, f), resolve(outDir, dir, f));
      }
      cpSync(resolve(web, 'embed', 'resnorm-resize.js'), resolve(outDir, 'resnorm-resize.js'));
    },
  };
}

export default defineConfig({
  root: web,
  base: './',
  publicDir: false,
  worker: { format: 'es' },
  // the widget's "open the full playground" link: this folder has no playground page
  define: { __RP_EMBED_ONLY__: 'true' },
  plugins: [engineFiles()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rollupOptions: {
      input: {
        embed: resolve(web, 'embed.html'),
        'resnorm-playground': resolve(web, 'src/element.ts'),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'resnorm-playground' ? 'assets/resnorm-playground.js' : 'assets/[name]-[hash].js'),
        chunkFileNames: 'assets/playground-[hash].js',
      },
    },
  },
});
