// Entry of embed.html, the page for iframes: the same parameters as the main page's hash (in the
// query string or the hash), plus `controls=lr,warmup`, `height=420` and `autoplay=1`.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { App } from './app';
import { createEngine } from './engineFactory';
import { parse } from './state';
import { embedOptions } from './embedParams';
import { siteUrl } from './site';
import { pauseWhenUnseen } from './visibility';

const text = [location.search.replace(/^\?/, ''), location.hash.replace(/^#/, '')].filter(Boolean).join('&');
const { state, notices } = parse(text);
const { controls, height, autoplay } = embedOptions(text);
const root = document.getElementById('app')!;
const app = new App({
  root,
  state,
  notices,
  factory: createEngine,
  keyTarget: document,
  autoplay,
  lazy: true,
  embed: { controls, height, fullUrl: (hash) => `${siteUrl('index.html')}#${hash}` },
});
// An iframe scrolled out of its host page's view, or in a hidden tab, pauses too.
pauseWhenUnseen(root, () => app);
(window as unknown as { __resnorm: { apps: App[] } }).__resnorm = { apps: [app] };
