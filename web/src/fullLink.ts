// The widget's link to the full playground: index.html next to the scripts in the site build (web/dist);
// none in the embed folder (web/dist-embed, built with __RP_EMBED_ONLY__), which carries no playground page.
import { siteUrl } from './site';

declare const __RP_EMBED_ONLY__: boolean | undefined;

export function fullPlaygroundUrl(): ((hash: string) => string) | undefined {
  if (typeof __RP_EMBED_ONLY__ !== 'undefined' && __RP_EMBED_ONLY__) return undefined;
  return (hash) => `${siteUrl('index.html')}#${hash}`;
}
