// "Your text" in the gpt data settings: load a UTF-8 file or paste text, see what the model will train
// on, forget it. Checks (text.ts) come before anything is kept; problems go to the page's notices.
import { h } from '../dom';
import { fmtInt, translate, type MessageKey } from '../i18n';
import type { Lang } from '../state';
import { onOwnText, ownText, ownTextReady, setOwnText } from './store';
import { MAX_TEXT_MB, MAX_VOCAB, MIN_TEXT_CHARS, checkText, checkTextBytes, type TextProblem } from './text';

export interface OwnTextHost {
  lang(): Lang;
  /** Train on the kept text now (data = text, rebuild). */
  useText(): void;
  /** Shows a notice on the page. */
  notify(kind: 'error' | 'info', text: string): void;
}

/** The notice for a refused text, in the page's language. */
export function problemText(lang: Lang, name: string, p: TextProblem): string {
  const t = (k: MessageKey, v: Record<string, string | number>) => translate(lang, k, { name, ...v });
  switch (p.kind) {
    case 'size': return t('own.err.size', { mb: (p.bytes / 1048576).toFixed(1), max: MAX_TEXT_MB });
    case 'utf8': return t('own.err.utf8', { offset: fmtInt(lang, p.offset) });
    case 'vocab': return t('own.err.vocab', { count: fmtInt(lang, p.count), max: fmtInt(lang, MAX_VOCAB) });
    case 'short': return t('own.err.short', { chars: fmtInt(lang, p.chars), min: fmtInt(lang, MIN_TEXT_CHARS) });
    case 'few': return t('own.err.few', {});
  }
}

export class OwnTextPanel {
  readonly el: HTMLElement;
  private readonly status: HTMLElement;
  private readonly file: HTMLInputElement;
  private readonly area: HTMLTextAreaElement;
  private readonly forget: HTMLButtonElement;
  private readonly off: () => void;

  constructor(private readonly host: OwnTextHost) {
    const t = (k: MessageKey, v?: Record<string, string | number>) => translate(host.lang(), k, v);
    this.status = h('p', { class: 'rp-own-status', 'data-own': 'status', 'aria-live': 'polite' });
    this.file = h('input', { type: 'file', accept: '.txt,text/plain', 'data-own': 'file', class: 'rp-own-file',
      'aria-label': t('own.file', { mb: MAX_TEXT_MB }),
      onchange: () => { const f = this.file.files?.[0]; if (f) void this.readFile(f); this.file.value = ''; } }) as HTMLInputElement;
    this.area = h('textarea', { rows: 4, 'data-own': 'paste', 'aria-label': t('own.paste'), placeholder: t('own.paste_hint') }) as HTMLTextAreaElement;
    this.forget = h('button', { type: 'button', class: 'rp-btn rp-small', 'data-own': 'forget',
      onclick: () => { void setOwnText(null); } }, t('own.forget')) as HTMLButtonElement;
    this.el = h('div', { class: 'rp-own', 'data-own': 'panel' },
      h('h4', {}, t('own.title')),
      this.status,
      h('label', { class: 'rp-own-filelabel' }, t('own.file', { mb: MAX_TEXT_MB }), this.file),
      h('details', { class: 'rp-own-pastebox' }, h('summary', {}, t('own.paste')), this.area,
        h('button', { type: 'button', class: 'rp-btn rp-small', 'data-own': 'use-paste', onclick: () => this.usePaste() }, t('own.use'))),
      this.forget,
      h('p', { class: 'rp-own-note' }, t('own.private')));
    this.off = onOwnText(() => this.refresh());
    this.refresh();
    void ownTextReady().then(() => this.refresh());  // a text saved in an earlier visit
  }

  dispose(): void { this.off(); }

  /** Opens the file chooser (from the notice a shared link gets). */
  pickFile(): void { this.file.click(); }

  refresh(): void {
    const lang = this.host.lang();
    const o = ownText();
    this.status.textContent = o
      ? translate(lang, 'own.loaded', { name: o.name || translate(lang, 'own.pasted'), chars: fmtInt(lang, o.chars), vocab: fmtInt(lang, o.vocab) })
      : translate(lang, 'own.none');
    this.forget.hidden = !o;
  }

  /** Reads a text file (the file chooser, or a file dropped on the page). */
  async readFile(f: File): Promise<void> {
    const lang = this.host.lang();
    let bytes: Uint8Array;
    try {
      // a file far over the cap is refused from its size, without reading it
      bytes = f.size > MAX_TEXT_MB * 1048576 ? new Uint8Array(0) : new Uint8Array(await f.arrayBuffer());
    } catch (e) {
      this.host.notify('error', translate(lang, 'own.err.read', { name: f.name, msg: e instanceof Error ? e.message : String(e) }));
      return;
    }
    const r = f.size > MAX_TEXT_MB * 1048576 ? { problem: { kind: 'size', bytes: f.size } as TextProblem } : checkTextBytes(bytes);
    await this.keep(r, f.name);
  }

  private usePaste(): void { void this.keep(checkText(this.area.value), ''); }

  private async keep(r: ReturnType<typeof checkText>, name: string): Promise<void> {
    const lang = this.host.lang();
    if ('problem' in r) {
      this.host.notify('error', problemText(lang, name || translate(lang, 'own.pasted'), r.problem));
      return;
    }
    const stored = await setOwnText({ text: r.text, name, chars: r.info.chars, vocab: r.info.vocab });
    if (!stored) this.host.notify('info', translate(lang, 'own.memonly'));
    this.host.useText();
  }
}
