// Where the site's static files (wasm, text corpus, pages) live, found from this module's own URL:
// every built script sits in <site>/assets/, and in development this file is <site>/src/site.ts.
// Resolving from the script (not the page) lets a blog post on any path load the widget.
export const siteBase: string = new URL(/* @vite-ignore */ '../', import.meta.url).href;

export function siteUrl(path: string): string {
  return new URL(path, siteBase).href;
}
