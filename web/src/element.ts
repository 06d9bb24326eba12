// <resnorm-playground> for blog posts: one <script type="module" src=".../assets/resnorm-playground.js">
// and e.g. <resnorm-playground preset="postln-vs-preln" controls="lr,warmup" height="420">.
// Each element is independent (its own engines and shadow DOM); off-screen ones pause.
import { pauseWhenUnseen } from './visibility';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import appCss from './style.css?inline';
import { App } from './app';
import { createEngine } from './engineFactory';
import { embedNotices, embedOptions } from './embedParams';
import { parse } from './url';
import { fullPlaygroundUrl } from './fullLink';

let sheets: CSSStyleSheet[] | null = null;
/** Constructed style sheets: not subject to a page's style-src policy, shared by every widget. */
function styleSheets(): CSSStyleSheet[] {
  if (!sheets) {
    sheets = [uplotCss, appCss].map((css) => {
      const s = new CSSStyleSheet();
      s.replaceSync(css);
      return s;
    });
  }
  return sheets;
}

const ATTRS = ['preset', 'controls', 'panels', 'height', 'lang', 'params', 'autoplay'] as const;

export class ResnormPlaygroundElement extends HTMLElement {
  static observedAttributes = [...ATTRS];
  app: App | null = null;
  private unwatch: (() => void) | null = null;
  private box: HTMLDivElement | null = null;

  /** The attributes as one `key=value&...` text, read by the same parser as the page's URL. */
  paramText(): string {
    const parts: string[] = [];
    for (const a of ATTRS) {
      const v = this.getAttribute(a);
      if (v === null) continue;
      if (a === 'params') parts.push(v.replace(/^[#?]/, ''));
      else parts.push(`${a}=${encodeURIComponent(v)}`);
    }
    return parts.join('&');
  }

  connectedCallback(): void {
    if (this.app) return;
    const shadow = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
    shadow.adoptedStyleSheets = styleSheets();
    this.box = document.createElement('div');
    shadow.append(this.box);
    if (!this.hasAttribute('tabindex')) this.tabIndex = 0;
    this.mount();
    this.unwatch = pauseWhenUnseen(this, () => this.app);
    registry().apps.push(this);
  }

  private mount(): void {
    const text = this.paramText();
    const { state, notices } = parse(text);
    const { controls, height, autoplay } = embedOptions(text);
    this.app = new App({
      root: this.box!,
      state,
      notices: [...notices, ...embedNotices(text)],
      factory: createEngine,
      keyTarget: this,
      autoplay: autoplay || this.hasAttribute('autoplay'),
      lazy: true,
      embed: { controls, height, fullUrl: fullPlaygroundUrl() },
    });
  }

  attributeChangedCallback(_name: string, old: string | null, value: string | null): void {
    if (!this.app || old === value) return;
    this.app.destroy();
    this.box!.replaceChildren();
    this.mount();
  }

  disconnectedCallback(): void {
    this.unwatch?.();
    this.unwatch = null;
    this.app?.destroy();
    this.app = null;
    this.box?.remove();
    const r = registry();
    r.apps = r.apps.filter((x) => x !== this);
  }
}

function registry(): { apps: ResnormPlaygroundElement[] } {
  const w = window as unknown as { __resnormElements?: { apps: ResnormPlaygroundElement[] } };
  return (w.__resnormElements ??= { apps: [] });
}

if (!customElements.get('resnorm-playground')) customElements.define('resnorm-playground', ResnormPlaygroundElement);
