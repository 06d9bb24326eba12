// Vite build of the static site: the main page, embed.html, the example blog posts (blog-post, iframe-post,
// the article in Chinese and English), and the
// <resnorm-playground> element as its own stable entry (assets/resnorm-playground.js).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const web = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(web, '..');

export default defineConfig({
  root: web,
  base: './',
  publicDir: resolve(web, 'public'),
  server: { host: '127.0.0.1', fs: { allow: [repo] } },
  preview: { host: '127.0.0.1' },
  worker: { format: 'es' },
  build: {
    outDir: resolve(web, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts anywhere: the pages must run under script-src 'self'.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rollupOptions: {
      input: {
        index: resolve(web, 'index.html'),
        embed: resolve(web, 'embed.html'),
        'blog-post': resolve(web, 'examples/blog-post.html'),
        'iframe-post': resolve(web, 'examples/iframe-post.html'),
        'article-zh': resolve(web, 'examples/article-zh.html'),
        'article-en': resolve(web, 'examples/article-en.html'),
        'resnorm-playground': resolve(web, 'src/element.ts'),
      },
      output: {
        // Every script lives in assets/ (src/site.ts finds the site root from there); the element
        // keeps a name without a hash so a blog can link it for good.
        entryFileNames: (chunk) => (chunk.name === 'resnorm-playground' ? 'assets/resnorm-playground.js' : 'assets/[name]-[hash].js'),
        chunkFileNames: 'assets/playground-[hash].js',
      },
    },
  },
});
