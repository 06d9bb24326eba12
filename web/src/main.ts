// Entry of the main page (index.html): the full playground, its state kept in the URL hash so a
// copied link reproduces the run, and a pasted link (hashchange) loads it.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { App } from './app';
import { translate } from './i18n';
import { createEngine } from './engineFactory';
import { cloneState } from './state';
import { parse, tooLong } from './url';

const root = document.getElementById('app')!;
const initial = parse(location.hash);
if ((!location.hash || tooLong(location.hash)) && navigator.language?.toLowerCase().startsWith('zh')) initial.state.lang = 'zh';
let written = location.hash.replace(/^#/, '');

const app = new App({
  root,
  state: initial.state,
  notices: initial.notices,
  factory: createEngine,
  keyTarget: document,
  onState: (hash) => {
    written = hash;
    history.replaceState(null, '', `#${hash}`);
  },
  onChange: (s) => { document.documentElement.lang = s.lang === 'zh' ? 'zh-CN' : 'en'; document.title = translate(s.lang, 'page.title'); },
});
document.documentElement.lang = app.state.lang === 'zh' ? 'zh-CN' : 'en';
document.title = translate(app.state.lang, 'page.title');

window.addEventListener('hashchange', () => {
  const h = location.hash.replace(/^#/, '');
  if (h === written) return;
  written = h;
  // a link too long to read leaves the page as it is (language included), with a notice
  const long = tooLong(h);
  const { state, notices } = long ? { state: cloneState(app.state), notices: [long] } : parse(h);
  app.load(state, notices);  // rebuilds the engines if the configs changed
});

// For the end-to-end tests and benchmarks (read-only use).
(window as unknown as { __resnorm: { apps: App[] } }).__resnorm = { apps: [app] };
