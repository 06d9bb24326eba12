// Entry of embed.html, the page for iframes: the same parameters as the main page's hash (in the
// query string or the hash), plus `controls=lr,warmup`, `height=420` and `autoplay=1`.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { App } from './app';
import { createEngine } from './engineFactory';
import { parse } from './url';
import { embedNotices, embedOptions } from './embedParams';
import { fullPlaygroundUrl } from './fullLink';
import { pauseWhenUnseen } from './visibility';
import { contentHeight } from './layout';

const text = [location.search.replace(/^\?/, ''), location.hash.replace(/^#/, '')].filter(Boolean).join('&');
const { state, notices } = parse(text);
const { controls, height, autoplay } = embedOptions(text);
const root = document.getElementById('app')!;
const app = new App({
  root,
  state,
  notices: [...notices, ...embedNotices(text)],
  factory: createEngine,
  keyTarget: document,
  autoplay,
  lazy: true,
  embed: { controls, height, fullUrl: fullPlaygroundUrl() },
});
// An iframe scrolled out of its host page's view, or in a hidden tab, pauses too.
pauseWhenUnseen(root, () => app);
(window as unknown as { __resnorm: { apps: App[] } }).__resnorm = { apps: [app] };
// Tell the host page how tall the content is, whenever that changes (issue 20): its optional helper
// resnorm-resize.js (docs/embedding.md) sizes the iframe. Only a number goes out, so any origin may hear it.
if (window.parent !== window) {
  let last = 0;
  const post = () => {
    const h = contentHeight(root);
    if (h === last) return;
    last = h;
    window.parent.postMessage({ resnorm: 'height', h }, '*');
  };
  // the root keeps at least the frame's height (min-height: 100vh), so its children are what grow and shrink
  const sizes = new ResizeObserver(post);
  const watch = () => {
    sizes.disconnect();
    sizes.observe(root);
    for (const c of Array.from(root.children)) sizes.observe(c);
    post();
  };
  new MutationObserver(watch).observe(root, { childList: true });
  watch();
}
